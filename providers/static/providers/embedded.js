/* The embedded view: tabs drawn from /v1/embedded/* with the client token of the URL fragment.
   Everything the API returns is inserted as text (textContent), except the introduction, which
   the server renders from markdown with raw HTML escaped and unsafe links removed. */
(function () {
  "use strict";
  var API = "/v1/embedded/";
  var LOG_REFRESH_MS = 3000;
  var token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  var context = null;
  var editing = null; // the destination being edited, or null when adding
  var selected = null; // the delivery shown in the log detail
  var logTimer = null;

  function $(selector) {
    return document.querySelector(selector);
  }

  function call(method, path, body) {
    var options = {
      method: method,
      headers: { Authorization: "client-token-bearer " + token, Accept: "application/json" },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(API + path, options).then(function (response) {
      if (response.status === 204) {
        return null;
      }
      return response.json().then(function (data) {
        if (!response.ok) {
          throw new Error((data.error && data.error.message) || "HTTP " + response.status);
        }
        return data;
      });
    });
  }

  function showError(error) {
    $("#error").textContent = error ? String(error.message || error) : "";
  }

  function cell(row, text, className) {
    var td = row.insertCell();
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (className) {
      td.className = className;
    }
    return td;
  }

  function button(label, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.addEventListener("click", onClick);
    return element;
  }

  function when(iso) {
    return iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "";
  }

  /* Tabs */

  function showTab(name) {
    document.querySelectorAll("[data-tab]").forEach(function (tab) {
      tab.classList.toggle("active", tab.dataset.tab === name);
      tab.setAttribute("aria-selected", tab.dataset.tab === name ? "true" : "false");
    });
    document.querySelectorAll("[data-panel]").forEach(function (panel) {
      panel.hidden = panel.dataset.panel !== name;
    });
    clearInterval(logTimer);
    showError(null);
    if (name === "dashboard") {
      loadStats();
    } else if (name === "destinations") {
      loadDestinations();
    } else if (name === "logs") {
      loadLog();
      logTimer = setInterval(loadLog, LOG_REFRESH_MS);
    }
  }

  /* Dashboard: stacked bars drawn as SVG, one per day or hour. */

  function chart(container, periods, label) {
    var svgNS = "http://www.w3.org/2000/svg";
    var width = 700;
    var height = 160;
    var top = 8;
    var bottom = 20;
    var slot = width / periods.length;
    var most = Math.max.apply(null, periods.map(function (p) { return p.succeeded + p.failed + p.pending; }).concat([1]));
    var svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("role", "img");
    periods.forEach(function (period, index) {
      var y = height - bottom;
      ["succeeded", "failed", "pending"].forEach(function (status) {
        var barHeight = (period[status] / most) * (height - top - bottom);
        if (!barHeight) {
          return;
        }
        y -= barHeight;
        var rect = document.createElementNS(svgNS, "rect");
        rect.setAttribute("x", index * slot + slot * 0.15);
        rect.setAttribute("y", y);
        rect.setAttribute("width", slot * 0.7);
        rect.setAttribute("height", barHeight);
        rect.setAttribute("class", status);
        var title = document.createElementNS(svgNS, "title");
        title.textContent = label(period.start) + ": " + period[status] + " " + status;
        rect.appendChild(title);
        svg.appendChild(rect);
      });
      if (periods.length <= 7 || index % 3 === 0) {
        var text = document.createElementNS(svgNS, "text");
        text.setAttribute("x", index * slot + slot / 2);
        text.setAttribute("y", height - 4);
        text.setAttribute("text-anchor", "middle");
        text.setAttribute("font-size", "11");
        text.textContent = label(period.start);
        svg.appendChild(text);
      }
    });
    container.replaceChildren(svg);
  }

  function totals(periods) {
    var sum = { succeeded: 0, failed: 0, pending: 0 };
    periods.forEach(function (p) {
      sum.succeeded += p.succeeded;
      sum.failed += p.failed;
      sum.pending += p.pending;
    });
    return sum.succeeded + " delivered, " + sum.failed + " failed, " + sum.pending + " pending";
  }

  function loadStats() {
    call("GET", "stats").then(function (stats) {
      $("#totals-days").textContent = totals(stats.days);
      $("#totals-hours").textContent = totals(stats.hours);
      chart($("#chart-days"), stats.days, function (start) { return start.slice(5, 10); });
      chart($("#chart-hours"), stats.hours, function (start) { return start.slice(11, 13) + "h"; });
    }).catch(showError);
  }

  /* Destinations */

  function loadDestinations() {
    call("GET", "destinations").then(function (page) {
      var body = $("#destinations tbody");
      body.replaceChildren();
      page.results.forEach(function (destination) {
        var row = body.insertRow();
        row.dataset.id = destination.id;
        cell(row, destination.name);
        cell(row, destination.endpoint_url);
        cell(row, destination.event_filters.length ? destination.event_filters.join(", ") : "all");
        cell(row, destination.status);
        var actions = row.insertCell();
        actions.append(
          button("Edit", function () { editDestination(destination); }),
          " ",
          button("Delete", function () { deleteDestination(destination); })
        );
      });
      $("#no-destinations").hidden = page.results.length > 0;
    }).catch(showError);
  }

  function eventFilters() {
    if (context.event_types.length) {
      return Array.prototype.map.call(
        document.querySelectorAll("#event-types input:checked"),
        function (box) { return box.value; }
      );
    }
    return $("[name=event_filters]").value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function resetForm() {
    editing = null;
    $("#destination-form").reset();
    $("#form-title").textContent = "Add a destination";
    $("#cancel-edit").hidden = true;
  }

  function editDestination(destination) {
    editing = destination;
    var form = $("#destination-form");
    form.elements.name.value = destination.name;
    form.elements.endpoint_url.value = destination.endpoint_url;
    form.elements.event_filters.value = destination.event_filters.join(", ");
    document.querySelectorAll("#event-types input").forEach(function (box) {
      box.checked = destination.event_filters.indexOf(box.value) >= 0;
    });
    $("#form-title").textContent = "Edit " + destination.name;
    $("#cancel-edit").hidden = false;
    $("#secret").hidden = true;
  }

  function deleteDestination(destination) {
    call("DELETE", "destinations/" + destination.id).then(function () {
      if (editing && editing.id === destination.id) {
        resetForm();
      }
      loadDestinations();
    }).catch(showError);
  }

  function saveDestination(event) {
    event.preventDefault();
    var form = event.target;
    var body = {
      name: form.elements.name.value,
      endpoint_url: form.elements.endpoint_url.value,
      event_filters: eventFilters(),
    };
    var request = editing ? call("PUT", "destinations/" + editing.id, body) : call("POST", "destinations", body);
    request.then(function (destination) {
      var secret = $("#secret");
      secret.hidden = !destination.secret;
      if (destination.secret) {
        secret.replaceChildren("Signing secret of " + destination.name + " (shown once): ");
        var code = document.createElement("code");
        code.textContent = destination.secret;
        secret.appendChild(code);
      }
      showError(null);
      resetForm();
      loadDestinations();
    }).catch(showError);
  }

  /* Logs */

  function loadLog() {
    call("GET", "log").then(function (page) {
      var body = $("#log tbody");
      body.replaceChildren();
      page.results.forEach(function (delivery) {
        var row = body.insertRow();
        row.dataset.id = delivery.id;
        row.classList.toggle("selected", delivery.id === selected);
        cell(row, when(delivery.created));
        cell(row, delivery.event_type || "(none)");
        cell(row, delivery.destination_name);
        cell(row, delivery.status, "status-" + delivery.status);
        cell(row, delivery.last_status_code);
        cell(row, delivery.attempt_count);
        row.addEventListener("click", function () { showDelivery(delivery.id); });
      });
      $("#no-log").hidden = page.results.length > 0;
    }).catch(showError);
  }

  function showDelivery(id) {
    selected = id;
    call("GET", "log/" + id).then(function (delivery) {
      $("#log-detail").hidden = false;
      $("#detail-id").textContent = delivery.id;
      $("#detail-body").textContent = delivery.body;
      $("#resend-result").textContent = "";
      var body = $("#attempts tbody");
      body.replaceChildren();
      delivery.attempts.forEach(function (attempt) {
        var row = body.insertRow();
        cell(row, attempt.number);
        cell(row, when(attempt.started_at));
        cell(row, attempt.status_code);
        cell(row, attempt.elapsed_ms === null ? "" : attempt.elapsed_ms + " ms");
        cell(row, attempt.error);
        cell(row, attempt.response_body);
      });
      document.querySelectorAll("#log tbody tr").forEach(function (row) {
        row.classList.toggle("selected", row.dataset.id === id);
      });
    }).catch(showError);
  }

  function resend() {
    call("POST", "log/" + selected + "/resend").then(function (copy) {
      $("#resend-result").textContent = "Resent as " + copy.id;
      loadLog();
    }).catch(showError);
  }

  /* Start */

  function start(data) {
    context = data;
    if (data.css_url) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = data.css_url;
      document.head.appendChild(link);
    }
    if (data.consumer_name) {
      $("#title").textContent = "Webhooks for " + data.consumer_name;
    }
    $("#introduction").innerHTML = data.introduction_html; // sanitized by the server
    data.tabs.forEach(function (name) {
      $('[data-tab="' + name + '"]').hidden = false;
    });
    var boxes = $("#event-types");
    data.event_types.forEach(function (name) {
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.value = name;
      label.append(box, name);
      boxes.appendChild(label);
    });
    boxes.hidden = !data.event_types.length;
    $("#event-filters").hidden = data.event_types.length > 0;
    document.body.dataset.ready = "true";
    showTab(data.default_tab);
  }

  document.querySelectorAll("[data-tab]").forEach(function (tab) {
    tab.addEventListener("click", function () { showTab(tab.dataset.tab); });
  });
  $("#destination-form").addEventListener("submit", saveDestination);
  $("#cancel-edit").addEventListener("click", resetForm);
  $("#resend").addEventListener("click", resend);
  if (!token) {
    showError("This view needs a client token.");
    return;
  }
  call("GET", "context").then(start).catch(showError);
})();
