// WhatsApp's error codes, from Meta's list of Cloud API errors: what a
// failed message's code means and what a sender can do about it. Only
// Meta's own codes are here (13xxxx and a few of the Graph API's), so that
// another channel's small numbers are not read as WhatsApp's.

const ERRORS = {
  130429: ['Rate limit hit', 'The number sent more messages per second than its throughput allows.', 'Send more slowly and retry the failed messages later.'],
  130472: ['Number in an experiment', 'Meta left the message unsent because the recipient is part of one of its experiments on marketing messages.', 'Nothing to fix; the message is not charged. Reach the customer another way if it matters.'],
  131000: ['Something went wrong', 'An unknown error at Meta.', 'Retry; if it persists, check the WhatsApp Business Platform status.'],
  131005: ['Access denied', 'The access token lacks a permission the send needs.', 'Check the token\'s permissions (whatsapp_business_messaging) and grant them.'],
  131008: ['Required parameter missing', 'The request left out a parameter the message needs.', 'Fix the sending integration so it fills every required field.'],
  131009: ['Parameter value not valid', 'A value in the request is not valid, often a template variable or a phone number.', 'Check template variables and numbers; give every variable a fallback.'],
  131016: ['Service unavailable', 'WhatsApp was down or overloaded.', 'Retry later; check the platform status.'],
  131021: ['Recipient is the sender', 'The message was addressed to the business number that sent it.', 'Send to the customer\'s own number.'],
  131026: ['Message undeliverable', 'The number has no WhatsApp account, the recipient has not accepted WhatsApp\'s current terms, or their app is too old for this message type.', 'Check the number; ask the customer to update WhatsApp, or reach them on another channel. Do not keep retrying.'],
  131031: ['Account locked', 'The business account may not send: it broke an integrity policy, or its verification failed.', 'Review the account\'s status and policy notices in WhatsApp Manager and appeal if it is wrong.'],
  131042: ['Payment issue', 'The business account\'s payment method or credit line has a problem.', 'Fix the payment settings in WhatsApp Manager (payment method, currency, time zone, credit limit).'],
  131045: ['Phone number not registered', 'The sending number\'s certificate is missing or wrong.', 'Register the business phone number again.'],
  131047: ['Re-engagement message', 'More than 24 hours have passed since the customer last wrote, so only a template may be sent.', 'Send an approved template to reopen the conversation.'],
  131048: ['Spam rate limit hit', 'Sending from this number is limited because earlier messages were blocked or reported as spam.', 'Check the number\'s quality rating in WhatsApp Manager; send fewer, more relevant messages to people who opted in.'],
  131049: ['Marketing limit per user', 'Meta chose not to deliver this marketing message: the recipient has had enough marketing messages lately, from any business.', 'Do not resend at once; try again after a day or more, or send fewer marketing messages to this customer.'],
  131050: ['Marketing messages stopped', 'The recipient asked to stop receiving marketing messages from the business.', 'Leave them out of marketing campaigns; service messages still reach them.'],
  131051: ['Unsupported message type', 'WhatsApp does not support this type of message.', 'Send a supported type (text, media, template, interactive).'],
  131052: ['Media download error', 'The media a customer sent could not be downloaded.', 'Ask the customer to send it again, or another way.'],
  131053: ['Media upload error', 'The image, video or document of the message could not be uploaded.', 'Check the file\'s type and size against WhatsApp\'s limits, and that its URL is public and answers quickly.'],
  131056: ['Pair rate limit hit', 'Too many messages went to the same customer in a short time.', 'Wait before sending to this customer again; other customers are not affected.'],
  131057: ['Account in maintenance', 'The business account is in maintenance mode, for example during a throughput upgrade.', 'Wait a few minutes and retry.'],
  132000: ['Template parameters do not match', 'The number of variables sent does not match the template\'s.', 'Send exactly the variables the template declares.'],
  132001: ['Template does not exist', 'No approved template has that name in that language.', 'Check the template\'s name, language and approval in WhatsApp Manager.'],
  132005: ['Template text too long', 'With its variables filled in, the template is longer than allowed.', 'Shorten the variables or the template.'],
  132007: ['Template format policy', 'The filled-in template breaks WhatsApp\'s formatting rules.', 'Check the variables for characters or content the policy forbids.'],
  132012: ['Template parameter format', 'A variable is of the wrong kind (text, currency, date, media) for the template.', 'Send each variable in the format the template declares.'],
  132015: ['Template paused', 'The template was paused for low quality.', 'Edit the template or send another; watch its quality rating.'],
  132016: ['Template disabled', 'The template was paused too often for low quality and is now disabled.', 'Create a new template with different content.'],
  133010: ['Phone number not registered', 'The business number is not registered on WhatsApp.', 'Register the number on the WhatsApp Business Platform.'],
  368: ['Blocked for policy violations', 'The business account is restricted for breaking a platform policy.', 'Read the policy notice in WhatsApp Manager and resolve or appeal it.'],
  80007: ['Account rate limit', 'The business account reached its API rate limit.', 'Make fewer API calls and retry later.'],
};

// explain gives {title, meaning, action} for a WhatsApp error code, or
// null for a code that is not Meta's.
export function explain(code) {
  const e = ERRORS[String(code || '').trim()];
  return e ? { title: e[0], meaning: e[1], action: e[2] } : null;
}
