// ecr-mock console: copy buttons and the self-refreshing call record. No other host is used.
"use strict";

function copyText(text, button) {
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1200);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
  } else {
    fallbackCopy(text, done);
  }
}

function fallbackCopy(text, done) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.appendChild(area);
  area.select();
  try { document.execCommand("copy"); done(); } catch (e) { /* selection stays for Ctrl+C */ }
  area.remove();
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (button) {
    copyText(button.getAttribute("data-copy"), button);
  }
});

function refresh(body) {
  const source = body.getAttribute("data-refresh");
  fetch(source, { credentials: "same-origin", cache: "no-store" })
    .then((answer) => {
      if (answer.redirected) {  // the session ended (a restart): show the login page
        window.location.reload();
        return null;
      }
      return answer.ok ? answer.text() : null;
    })
    .then((html) => {
      if (html !== null && html !== body.innerHTML) {
        body.innerHTML = html;  // server-rendered rows, every value escaped there
      }
    })
    .catch(() => { /* the server stopped: keep the last rows */ })
    .finally(() => { setTimeout(() => refresh(body), 2000); });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh]").forEach((body) => {
    setTimeout(() => refresh(body), 2000);
  });
});
