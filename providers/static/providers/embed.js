/* The embedded view's snippet script: mounts the view's iframe in the element the snippet names.
   The client token goes in the iframe URL's fragment, which is never sent to a server. */
(function () {
  "use strict";
  var data = document.currentScript.dataset;

  function mount() {
    var element = document.getElementById(data.elementId);
    if (!element) {
      return;
    }
    var frame = document.createElement("iframe");
    frame.src = data.viewUrl + "#token=" + encodeURIComponent(data.token);
    frame.title = "Webhooks";
    frame.style.cssText = "width:100%;min-height:720px;border:0";
    element.appendChild(frame);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
