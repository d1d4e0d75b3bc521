// Installed in every recipe context before the recipe (see recipes/sandbox.py). Strict, and
// every name it needs is captured here, before anything can be changed.
(function () {
  "use strict";
  const g = globalThis;
  const { defineProperty, freeze, getPrototypeOf, getOwnPropertyDescriptor, isExtensible, keys } = Object;
  const { ownKeys, deleteProperty, apply } = Reflect;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const MAX_LOG_LINES = 100;
  const MAX_LOG_CHARS = 2000;

  // Not recipe API: mini-racer's timers (`var`s, so they cannot be deleted, only emptied),
  // WebAssembly, shared memory, V8's console, `eval` (its global let/const would outlive a run)
  // and weak references (their callbacks run after a run ends).
  for (const name of ["setTimeout", "clearTimeout", "__timer_manager"]) {
    defineProperty(g, name, { value: undefined, writable: false });
  }
  for (const name of [
    "WebAssembly", "SharedArrayBuffer", "Atomics", "console", "eval", "WeakRef", "FinalizationRegistry",
  ]) {
    delete g[name];
  }
  // RegExp.$1, lastMatch...: the last match of the previous run.
  for (const name of ownKeys(RegExp)) {
    if (!["length", "name", "prototype", "escape"].includes(name)) delete RegExp[name];
  }

  // Freeze every intrinsic, the ones only reachable from instances too.
  const frozen = new Set([g]);
  const deepFreeze = (value) => {
    if ((typeof value !== "object" && typeof value !== "function") || value === null || frozen.has(value)) {
      return;
    }
    frozen.add(value);
    freeze(value);
    deepFreeze(getPrototypeOf(value));
    for (const key of ownKeys(value)) {
      const descriptor = getOwnPropertyDescriptor(value, key);
      deepFreeze(descriptor.value);
      deepFreeze(descriptor.get);
      deepFreeze(descriptor.set);
    }
  };
  const hidden = [
    [][Symbol.iterator](), new Map()[Symbol.iterator](), new Set()[Symbol.iterator](), ""[Symbol.iterator](),
    /a/[Symbol.matchAll](""), function* () {}, async function () {}, async function* () {}, async () => {},
    [].values().map((x) => x), Iterator.from({ next() {} }), new Intl.Segmenter().segment(""), arguments,
  ];
  for (const value of [...ownKeys(g).map((key) => getOwnPropertyDescriptor(g, key).value), ...hidden]) {
    deepFreeze(value);
  }

  const EXIT = freeze({ toString: () => "exit" });
  let recipe = null;
  let type = "";
  let logs = [];
  let baseline = null;

  const show = (value) => {
    if (typeof value === "string") return value;
    try {
      const text = stringify(value);
      return text === undefined ? String(value) : text;
    } catch {
      return String(value);
    }
  };
  const makeConsole = (lines) => {
    const log = (...values) => {
      if (lines.length < MAX_LOG_LINES) lines.push(values.map(show).join(" ").slice(0, MAX_LOG_CHARS));
    };
    return freeze({ log, info: log, warn: log, error: log, debug: log });
  };
  const define = (object, key, value) =>
    defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });

  const makeMessage = (result, exit) => {
    const destinationOnly = (name) => {
      if (type !== "destination") throw new TypeError(`message.${name}() is only available in destination recipes`);
    };
    const headerKey = (name) => {
      const wanted = String(name).toLowerCase();
      return keys(result.headers).find((key) => key.toLowerCase() === wanted);
    };
    const setHeader = (name, value) => {
      const key = headerKey(name);
      if (key !== undefined) delete result.headers[key];
      define(result.headers, String(name), String(value));
      if (String(name).toLowerCase() === "content-type") result.content_type = String(value);
    };
    return freeze({
      getBody: () => result.data,
      setBody: (body) => { result.data = body; },
      getHeaders: () => result.headers,
      getHeader: (name) => {
        const key = headerKey(name);
        return key === undefined ? null : result.headers[key];
      },
      setHeader,
      getUrl: () => { destinationOnly("getUrl"); return result.url; },
      setUrl: (url) => { destinationOnly("setUrl"); result.url = String(url); },
      getMethod: () => result.method,
      setMethod: (method) => { result.method = String(method).toUpperCase(); },
      getEventType: () => result.event_type,
      setEventType: (eventType) => { result.event_type = String(eventType); },
      getContentType: () => result.content_type,
      setContentType: (contentType) => {
        result.content_type = String(contentType);
        if (headerKey("content-type") !== undefined) setHeader("Content-Type", contentType);
      },
      skip: () => exit(null),
    });
  };

  const finish = (value) => {
    if (value === null) return stringify({ skipped: true, logs });
    const { data, headers, url, method, event_type, content_type } = value;
    return stringify({ result: { data, headers, url, method, event_type, content_type }, logs });
  };

  // One run. Starts by removing what earlier runs added to the global object ("retire" when
  // that is impossible: the caller then uses a fresh context). exit() throws EXIT to unwind;
  // the `finally` (not a `catch`) swallows only that, so a real error leaves V8 with the place
  // it was thrown from.
  const run = (inputJson) => {
    for (const key of ownKeys(g)) {
      if (!baseline.has(key) && !deleteProperty(g, key)) return "retire";
    }
    if (!isExtensible(g)) return "retire";
    const input = parse(inputJson);
    logs = [];
    const result = {
      data: input.data,
      headers: input.headers,
      url: input.url,
      method: input.method,
      event_type: input.event_type,
      content_type: input.content_type,
    };
    let exited = false;
    let exitValue;
    const exit = (value) => {
      if (value !== undefined && typeof value !== "object") {
        throw new TypeError("exit() takes the result object, or null to drop the message");
      }
      exited = true;
      exitValue = value === undefined ? result : value;
      throw EXIT;
    };
    try {
      apply(recipe, undefined, [makeMessage(result, exit), result.data, result, exit, makeConsole(logs)]);
    } finally {
      if (exited) return finish(exitValue);
    }
    return finish(result);
  };

  // Compiles the recipe once. As a function body it cannot close its wrapper and run code at
  // the top level; `wh` is called when the recipe defines it (the function wh(){} form).
  g.__wh_setup = (source, recipeType) => {
    recipe = new Function(
      "message", "data", "result", "exit", "console",
      source + "\n;if (typeof wh === 'function') wh();\n//# sourceURL=recipe.js",
    );
    type = recipeType;
    const logsJson = () => stringify(logs);
    // Reachable from recipe code (arguments.callee, globalThis.__wh_run): frozen like the rest.
    deepFreeze(recipe);
    deepFreeze(run);
    deepFreeze(logsJson);
    delete g.__wh_setup;
    defineProperty(g, "__wh_run", { value: run });
    defineProperty(g, "__wh_logs", { value: logsJson });
    for (const key of ownKeys(g)) {
      const descriptor = getOwnPropertyDescriptor(g, key);
      if (descriptor.configurable || descriptor.writable) {
        defineProperty(g, key, "value" in descriptor ? { writable: false, configurable: false } : { configurable: false });
      }
    }
    baseline = new Set(ownKeys(g));
  };
})();
//# sourceURL=prelude.js
