// WhatsApp's error codes, from Meta's list of Cloud API errors: what a
// failed message's code means and what a sender can do about it. Only
// Meta's own codes are here (13xxxx and a few of the Graph API's), so that
// another channel's small numbers are not read as WhatsApp's. Each code
// gives its title, meaning and advice in the page's language.

import { t } from './i18n.js';

const ERRORS = {
  130429: () => [t('Rate limit hit'), t('The number sent more messages per second than its throughput allows.'), t('Send more slowly and retry the failed messages later.')],
  130472: () => [t('Number in an experiment'), t('Meta left the message unsent because the recipient is part of one of its experiments on marketing messages.'), t('Nothing to fix; the message is not charged. Reach the customer another way if it matters.')],
  131000: () => [t('Something went wrong'), t('An unknown error at Meta.'), t('Retry; if it persists, check the WhatsApp Business Platform status.')],
  131005: () => [t('Access denied'), t('The access token lacks a permission the send needs.'), t('Check the token\'s permissions (whatsapp_business_messaging) and grant them.')],
  131008: () => [t('Required parameter missing'), t('The request left out a parameter the message needs.'), t('Fix the sending integration so it fills every required field.')],
  131009: () => [t('Parameter value not valid'), t('A value in the request is not valid, often a template variable or a phone number.'), t('Check template variables and numbers; give every variable a fallback.')],
  131016: () => [t('Service unavailable'), t('WhatsApp was down or overloaded.'), t('Retry later; check the platform status.')],
  131021: () => [t('Recipient is the sender'), t('The message was addressed to the business number that sent it.'), t('Send to the customer\'s own number.')],
  131026: () => [t('Message undeliverable'), t('The number has no WhatsApp account, the recipient has not accepted WhatsApp\'s current terms, or their app is too old for this message type.'), t('Check the number; ask the customer to update WhatsApp, or reach them on another channel. Do not keep retrying.')],
  131031: () => [t('Account locked'), t('The business account may not send: it broke an integrity policy, or its verification failed.'), t('Review the account\'s status and policy notices in WhatsApp Manager and appeal if it is wrong.')],
  131042: () => [t('Payment issue'), t('The business account\'s payment method or credit line has a problem.'), t('Fix the payment settings in WhatsApp Manager (payment method, currency, time zone, credit limit).')],
  131045: () => [t('Phone number not registered'), t('The sending number\'s certificate is missing or wrong.'), t('Register the business phone number again.')],
  131047: () => [t('Re-engagement message'), t('More than 24 hours have passed since the customer last wrote, so only a template may be sent.'), t('Send an approved template to reopen the conversation.')],
  131048: () => [t('Spam rate limit hit'), t('Sending from this number is limited because earlier messages were blocked or reported as spam.'), t('Check the number\'s quality rating in WhatsApp Manager; send fewer, more relevant messages to people who opted in.')],
  131049: () => [t('Marketing limit per user'), t('Meta chose not to deliver this marketing message: the recipient has had enough marketing messages lately, from any business.'), t('Do not resend at once; try again after a day or more, or send fewer marketing messages to this customer.')],
  131050: () => [t('Marketing messages stopped'), t('The recipient asked to stop receiving marketing messages from the business.'), t('Leave them out of marketing campaigns; service messages still reach them.')],
  131051: () => [t('Unsupported message type'), t('WhatsApp does not support this type of message.'), t('Send a supported type (text, media, template, interactive).')],
  131052: () => [t('Media download error'), t('The media a customer sent could not be downloaded.'), t('Ask the customer to send it again, or another way.')],
  131053: () => [t('Media upload error'), t('The image, video or document of the message could not be uploaded.'), t('Check the file\'s type and size against WhatsApp\'s limits, and that its URL is public and answers quickly.')],
  131056: () => [t('Pair rate limit hit'), t('Too many messages went to the same customer in a short time.'), t('Wait before sending to this customer again; other customers are not affected.')],
  131057: () => [t('Account in maintenance'), t('The business account is in maintenance mode, for example during a throughput upgrade.'), t('Wait a few minutes and retry.')],
  132000: () => [t('Template parameters do not match'), t('The number of variables sent does not match the template\'s.'), t('Send exactly the variables the template declares.')],
  132001: () => [t('Template does not exist'), t('No approved template has that name in that language.'), t('Check the template\'s name, language and approval in WhatsApp Manager.')],
  132005: () => [t('Template text too long'), t('With its variables filled in, the template is longer than allowed.'), t('Shorten the variables or the template.')],
  132007: () => [t('Template format policy'), t('The filled-in template breaks WhatsApp\'s formatting rules.'), t('Check the variables for characters or content the policy forbids.')],
  132012: () => [t('Template parameter format'), t('A variable is of the wrong kind (text, currency, date, media) for the template.'), t('Send each variable in the format the template declares.')],
  132015: () => [t('Template paused'), t('The template was paused for low quality.'), t('Edit the template or send another; watch its quality rating.')],
  132016: () => [t('Template disabled'), t('The template was paused too often for low quality and is now disabled.'), t('Create a new template with different content.')],
  133010: () => [t('Phone number not registered'), t('The business number is not registered on WhatsApp.'), t('Register the number on the WhatsApp Business Platform.')],
  368: () => [t('Blocked for policy violations'), t('The business account is restricted for breaking a platform policy.'), t('Read the policy notice in WhatsApp Manager and resolve or appeal it.')],
  80007: () => [t('Account rate limit'), t('The business account reached its API rate limit.'), t('Make fewer API calls and retry later.')],
};

// explain gives {title, meaning, action} for a WhatsApp error code, or
// null for a code that is not Meta's.
export function explain(code) {
  const key = String(code || '').trim();
  if (!Object.hasOwn(ERRORS, key)) return null;
  const texts = ERRORS[key];
  const [title, meaning, action] = texts();
  return { title, meaning, action };
}
