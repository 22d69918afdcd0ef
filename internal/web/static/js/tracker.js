// omnikpi's site tracker, served at /t.js. A shop pastes one tag into its
// pages:
//
//   <script defer src="https://omnikpi.example.com/t.js" data-tracker="tk_…"></script>
//
// It posts a page view on each page (and each change of address of a
// single-page shop) to /track/<tracker id> on the server it came from. It
// sets no cookie and stores nothing in the browser: the server knows a
// visitor by an anonymous id of the day. After a sign-in or a checkout the
// page may link the visitor to the shop's customer id:
//
//   omnikpi('identify', 'customer id, phone number or e-mail');
//
// or name it on the tag (data-customer="…"). Calls made before the script
// has loaded wait in window.omnikpi.q.
(function () {
  'use strict';
  var tag = document.currentScript;
  if (!tag || !tag.dataset.tracker || window.__omnikpiTracker) return;
  window.__omnikpiTracker = true;
  var endpoint = (tag.dataset.api || new URL(tag.src, location.href).origin) + '/track/' + encodeURIComponent(tag.dataset.tracker);

  // newID is a page load's random id: a re-sent hit keeps it, and the
  // server counts it once.
  function newID() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  // send posts a hit as text/plain, which needs no CORS preflight, and
  // retries it (the same hit) after a failure the server may recover from.
  function send(hit, tries) {
    var body = JSON.stringify(hit);
    fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit', headers: { 'Content-Type': 'text/plain' } })
      .then(function (res) {
        if ((res.status === 429 || res.status >= 500) && tries > 1) {
          var after = parseInt(res.headers.get('Retry-After'), 10);
          setTimeout(function () { send(hit, tries - 1); }, (after > 0 ? after : 2) * 1000);
        }
      }, function () {
        if (tries > 1) setTimeout(function () { send(hit, tries - 1); }, 2000);
      });
  }

  var last = '';
  function pageView() {
    if (location.href === last) return;
    last = location.href;
    send({ kind: 'page_view', id: newID(), url: location.href, referrer: document.referrer || '' }, 3);
  }

  function identify(customer) {
    if (customer === undefined || customer === null || String(customer).trim() === '') return;
    send({ kind: 'identify', customer: String(customer) }, 3);
  }

  function track() {
    pageView();
    if (tag.dataset.customer) identify(tag.dataset.customer);
    // Single-page shops change the address without loading a page.
    var push = history.pushState;
    history.pushState = function () {
      push.apply(this, arguments);
      pageView();
    };
    window.addEventListener('popstate', pageView);
  }

  var queued = (window.omnikpi && window.omnikpi.q) || [];
  window.omnikpi = function (command, value) {
    if (command === 'identify') identify(value);
    else if (command === 'pageview') pageView();
  };
  queued.forEach(function (args) { window.omnikpi.apply(null, args); });

  // A page the browser renders ahead, which the visitor may never see, is
  // counted once it is shown.
  if (document.visibilityState === 'prerender') {
    document.addEventListener('visibilitychange', function shown() {
      if (document.visibilityState === 'visible') {
        document.removeEventListener('visibilitychange', shown);
        track();
      }
    });
  } else {
    track();
  }
})();
