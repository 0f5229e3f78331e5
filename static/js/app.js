// mlsprep: the exam timer, save feedback and keyboard shortcuts. Everything here is an
// enhancement: the pages work as plain forms and links without it.
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("announcer");
    if (region) { region.textContent = ""; setTimeout(function () { region.textContent = text; }, 50); }
  }

  function formatClock(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)), ss = String(s).padStart(2, "0");
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // The server owns the clock. The page counts down on the monotonic clock from the time
  // left the server last gave, and re-reads it on load, with every answer/flag response
  // (X-Ms-Left header), when the tab becomes visible or the window regains focus, and
  // every minute; so a sleeping laptop or a deadline moved on the server never leaves the
  // page disagreeing with the server for long. When the server says the attempt is over,
  // the page stops counting and goes to the report.
  var clock = null;

  function startTimer() {
    var timer = document.getElementById("timer");
    if (!timer) return;
    var left = parseInt(timer.dataset.secondsLeft, 10);
    if (isNaN(left)) return;
    var grace = (parseInt(timer.dataset.graceSeconds, 10) || 0) * 1000;
    clock = { end: performance.now() + left * 1000, warned: { 600: left <= 600, 60: left <= 60 }, over: false };
    function finish(reportUrl) {
      if (clock.over) return;
      clock.over = true;
      timer.textContent = formatClock(0);
      announce("Time is up. Submitting your exam.");
      if (reportUrl) { window.location.assign(reportUrl); return; }
      // Answers already on their way are stored during the grace: submit after it.
      setTimeout(function () {
        var form = document.getElementById("time-up-form");
        if (form) form.submit();
      }, grace);
    }
    clock.finish = finish;
    function tick() {
      if (clock.over) return;
      var remaining = Math.max(0, Math.ceil((clock.end - performance.now()) / 1000));
      timer.textContent = formatClock(remaining);
      if (remaining <= 600 && !clock.warned[600]) { clock.warned[600] = true; announce("10 minutes left."); }
      if (remaining <= 60 && !clock.warned[60]) { clock.warned[60] = true; announce("1 minute left."); }
      timer.classList.toggle("is-low", remaining <= 600);
      if (remaining === 0) { finish(null); return; }
      setTimeout(tick, 250);
    }
    tick();
    var url = timer.dataset.clockUrl;
    function resync() {
      if (!url || clock.over) return;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) {
          if (!state) return;
          if (!state.open) { finish(state.report_url); return; }
          if (state.ms_left !== null) setLeft(state.ms_left);
        })
        .catch(function () { /* offline: keep counting, try again later */ });
    }
    document.addEventListener("visibilitychange", function () { if (!document.hidden) resync(); });
    window.addEventListener("focus", resync);
    window.addEventListener("pageshow", function (e) { if (e.persisted) resync(); });
    setInterval(resync, 60000);
  }

  function setLeft(ms) {
    if (!clock || clock.over) return;
    clock.end = performance.now() + ms;
    var seconds = Math.ceil(ms / 1000);
    // A deadline moved later re-arms the warnings that have not yet been passed.
    if (seconds > 600) clock.warned[600] = false;
    if (seconds > 60) clock.warned[60] = false;
  }

  document.addEventListener("htmx:afterRequest", function (e) {
    var xhr = e.detail.xhr;
    var ms = xhr ? xhr.getResponseHeader("X-Ms-Left") : null;
    if (ms !== null && ms !== "") setLeft(parseInt(ms, 10));
  });

  function saveStatus(html) {
    var status = document.getElementById("save-status");
    if (status) status.innerHTML = html;
  }

  function markChoices(state) {
    var choices = document.getElementById("choices");
    if (choices) choices.classList.toggle("is-unsaved", state === "unsaved");
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (e.target.id !== "answer-form") return;
    markChoices("unsaved");
    saveStatus('<span class="save-pending">Saving…</span>');
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.target.id !== "answer-form") return;
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (status === 200 || status === 422) markChoices("saved");  // 422 redraws the stored answer
    if (status === 403) {
      // The session changed elsewhere: the server's message (swapped into the status area)
      // says so; the choices stay marked as unsaved.
      markChoices("unsaved");
    }
    if (status === 409) {
      // Time is up or the attempt was submitted: nothing more can be saved here.
      document.querySelectorAll("#choices input").forEach(function (input) { input.disabled = true; });
      markChoices("saved");
    }
  });
  // Until a save is confirmed the choices carry an "unsaved" mark, and a failure says so
  // with a retry, so the screen never passes off an unsaved answer as saved.
  function saveFailed(e) {
    if (e.target.id !== "answer-form") return;
    var code = e.detail && e.detail.xhr ? e.detail.xhr.status : 0;
    if (code === 401 || code === 403) return;  // signed out / session changed: handled above
    markChoices("unsaved");
    saveStatus('<span class="save-error" role="alert">Not saved: the server could not be reached. ' +
      '<button type="button" class="link-button" id="retry-save">Retry</button></span>');
  }
  document.addEventListener("htmx:sendError", saveFailed);
  document.addEventListener("htmx:responseError", saveFailed);
  document.addEventListener("click", function (e) {
    if (e.target && e.target.id === "retry-save") {
      htmx.trigger(document.getElementById("answer-form"), "change");
    }
  });

  // Previous and Next move with htmx (only the question panel is swapped). A move the
  // server answers with anything but a page or a message for the status line (a signed-out
  // or changed session, a server error, no network) is sent again as the plain form post
  // it stands for, so the candidate lands on the full page that explains it.
  function isMove(elt) {
    return !!(elt && elt.matches && elt.matches("#answer-form .question-actions button[hx-post]"));
  }
  function moveWithoutHtmx(button) {
    var form = button.form;
    button.removeAttribute("hx-post");
    if (form && form.requestSubmit) form.requestSubmit(button); else if (form) form.submit();
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var elt = e.detail.requestConfig ? e.detail.requestConfig.elt : null;
    if (!isMove(elt)) return;
    var xhr = e.detail.xhr;
    var status = xhr ? xhr.status : 0;
    if (status === 200 || ((status === 409 || status === 422) && xhr.getResponseHeader("HX-Retarget"))) return;
    e.detail.shouldSwap = false;
    moveWithoutHtmx(elt);
  });
  document.addEventListener("htmx:sendError", function (e) {
    if (isMove(e.detail.elt)) moveWithoutHtmx(e.detail.elt);
  });
  // After a move, the new question's heading takes the focus, as on a new page.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && e.target.id === "question-panel") {
      var heading = document.getElementById("question-heading");
      if (heading) heading.focus({ preventScroll: true });
    }
  });

  function typingInField(target) {
    if (!target) return false;
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) return true;
    return tag === "INPUT" && !["radio", "checkbox", "button", "submit"].includes(target.type);
  }

  function clickIt(selector) {
    var el = document.querySelector(selector);
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  }

  function isChoice(target) {
    return !!(target && target.closest && target.closest("#choices") && target.tagName === "INPUT");
  }

  // Shortcuts never change an answer except the choice keys themselves: the arrow keys'
  // native meaning on a radio group (select the neighbouring choice) is stopped where the
  // arrows are documented as navigation, and Enter on a choice does nothing (without
  // JavaScript, the form's first button makes Enter mean Next, never Previous).
  document.addEventListener("keydown", function (e) {
    if (!document.getElementById("answer-form")) return;
    if (e.ctrlKey || e.metaKey || e.altKey || typingInField(e.target)) return;
    var key = e.key.toLowerCase();
    if (key === "enter" && isChoice(e.target)) { e.preventDefault(); return; }
    var index = "123456".indexOf(key);
    // Letters A–E pick choices too; F is kept for "flag" (a sixth choice is key 6).
    if (index < 0 && key.length === 1) index = "abcde".indexOf(key);
    var handled = false;
    if (index >= 0) {
      var input = document.querySelector('#choices input[data-key="' + (index + 1) + '"]');
      if (input && !input.disabled) { input.click(); input.focus(); }
      handled = true;
    } else if (key === "f") {
      clickIt("#flag-form button");
      handled = true;
    } else if (key === "n" || key === "arrowright") {
      clickIt('#answer-form .question-actions button[value="next"]');
      handled = true;
    } else if (key === "p" || key === "arrowleft") {
      clickIt('#answer-form .question-actions button[value="previous"]');
      handled = true;
    } else if (key === "r") {
      clickIt('#answer-form .question-actions button[value="review"]');
      handled = true;
    }
    if (handled) e.preventDefault();
  });

  // On a phone the navigator starts folded away behind its toggle.
  function foldNavigator() {
    var panel = document.getElementById("navigator-panel");
    if (panel && window.matchMedia("(max-width: 52rem)").matches) panel.open = false;
  }

  document.addEventListener("DOMContentLoaded", function () { startTimer(); foldNavigator(); });
})();
