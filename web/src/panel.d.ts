// Public types of `microvet/panel` (hand-written, like ./index.d.ts).
//
//   import 'microvet/panel';            // registers <microvet-panel> (browsers)
//   const panel = document.querySelector('microvet-panel');
//   panel.manifestObject = form.toObject();
//   panel.addEventListener('microvet-verdict', (e) => { publish.disabled = !panel.publishable; });

import type { Decision, Fix, Finding, JsonValue, Microvet, MicrovetError, PkcePair, Verdict } from './index.js';

export { MicrovetError } from './index.js';

/** The decisions under which a host may publish: `approve` and `approve-with-controls`. */
export const PUBLISHABLE: readonly ['approve', 'approve-with-controls'];

/** One JSON Patch (RFC 6902) operation, as in a finding's `fix`. */
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  /** RFC 6901 pointer into the manifest. */
  path: string;
  /** The new value (absent for `remove`). */
  value?: JsonValue;
}

/** `detail` of `microvet-fix`: the patch the panel applied, and the manifest after it. */
export interface MicrovetFixDetail {
  /** The applied operation (with the fix's `description`). */
  patch: PatchOperation & { description?: string };
  /** The finding it fixed (null when `applyFix` was called without one). */
  finding: Finding | null;
  /** The manifest text after the fix (what the panel now holds and vetted). */
  manifest: string;
  /** The manifest object after the fix, when the host gave one (`manifestObject`); else null. */
  manifestObject: JsonValue | null;
}

/** `detail` of `microvet-locate`: the user asked to see where a finding is. */
export interface MicrovetLocateDetail {
  path: string;
  line: number | null;
  rule: string;
}

export interface MicrovetPanelEventMap extends HTMLElementEventMap {
  /** After every vet (detail: the verdict). Publish only if `panel.publishable`. */
  'microvet-verdict': CustomEvent<Verdict>;
  /**
   * The input cannot be vetted (detail: the `MicrovetError`, with `line`/`column` for
   * syntax errors; code `policy`/`syntax` for a bad `policy` or `waivers`), or the component could not
   * be loaded (a plain `Error`).
   */
  'microvet-error': CustomEvent<MicrovetError | Error>;
  /** A one-click fix was applied to the panel's manifest; update the host's form from it. */
  'microvet-fix': CustomEvent<MicrovetFixDetail>;
  /** "Show me": the user clicked a finding's location. */
  'microvet-locate': CustomEvent<MicrovetLocateDetail>;
}

/**
 * Every panel on the page that was not given its own `engine` (nor a `wasm-url` /
 * `component-url`) vets with this one: an
 * instance from `load()` or its promise (load once, with your `wasmUrl`, and share it).
 * `null` goes back to each panel loading by its `wasm-url` / `component-url` attributes.
 */
export function useEngine(engine: Microvet | Promise<Microvet> | null): void;

/**
 * `<microvet-panel manifest="…" policy="…" waivers="…" debounce="150" wasm-url="…">`: vets the
 * manifest on every change (debounced; never two vets at once, changes meanwhile coalesce)
 * with the one microvet component the page loads, on the page's current day (UTC), and shows
 * the decision, the risk score and its factors, findings grouped by manifest field with
 * one-click fixes, waived findings with their waivers (when there are waivers), controls, and
 * a PKCE pair generator. Events bubble and are composed.
 */
export class MicrovetPanel extends HTMLElement {
  static readonly observedAttributes: readonly string[];
  /** The manifest as YAML (or JSON) text. Attribute `manifest`. */
  manifest: string;
  /**
   * The manifest as an object; vetted as its JSON text (`manifest` then reads that JSON).
   * Reading it back when the manifest was given as text parses it with `parseYaml` (null
   * if that reader cannot).
   */
  manifestObject: JsonValue | null;
  /** Policy YAML; `''` means the built-in default policy. Attribute `policy`. */
  policy: string;
  /**
   * A waivers file's text (`waivers: [...]`, YAML or JSON), added to the policy's own waivers
   * (`Policy.withWaivers`); `''` for none. Waivers apply on the page's current day (UTC); the
   * findings they cover are shown under "Waived" (`verdict.waived`), not counted in the
   * decision. An invalid file is a `microvet-error` (code `policy`, with the waiver's
   * `path`). Attribute `waivers`.
   */
  waivers: string;
  /** Milliseconds after the last change before vetting (default 150). Attribute `debounce`. */
  debounce: number;
  /**
   * The microvet instance this panel vets with. Set it to an instance (or its promise) the
   * host loaded to share it; unset, `load()` with the `wasm-url` (the core module's URL) or
   * `component-url` (its directory) attribute when one is set, else the page's
   * (`useEngine`), else the default `load()`.
   * Reading it gives the promise of the instance in use.
   */
  get engine(): Promise<Microvet>;
  set engine(engine: Microvet | Promise<Microvet> | null);
  /** The last verdict, or null (before the first vet, or while the input cannot be vetted). */
  readonly verdict: Verdict | null;
  /** Why the current input cannot be vetted, or null. */
  readonly error: MicrovetError | Error | null;
  /** The current decision; `'error'` when the input cannot be vetted; null before the first vet. */
  readonly decision: Decision | 'error' | null;
  /** Whether the decision is `approve` or `approve-with-controls` (gate "Publish" on this). */
  readonly publishable: boolean;
  /** Vet now, skipping the debounce. Rejects with the error when the input cannot be vetted. */
  vet(): Promise<Verdict>;
  /**
   * Apply a fix to the held manifest with the component's `applyFix` (comments and layout
   * kept), emit `microvet-fix`, vet again. Rejects with an `Error` when it does not apply.
   */
  applyFix(fix: Fix | PatchOperation, finding?: Finding | null): Promise<Verdict>;
  /** Generate (and show) a PKCE pair: a verifier of `length` (43..=128, default 64) and its S256 challenge. */
  generatePkce(length?: number): Promise<PkcePair>;

  addEventListener<K extends keyof MicrovetPanelEventMap>(
    type: K, listener: (this: MicrovetPanel, ev: MicrovetPanelEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof MicrovetPanelEventMap>(
    type: K, listener: (this: MicrovetPanel, ev: MicrovetPanelEventMap[K]) => unknown, options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

/**
 * Register the element (done on import in browsers; safe to call again). Under a bundler
 * that drops side-effect imports, import `define` and call it.
 */
export function define(name?: string): void;

/**
 * Read YAML (the subset manifests use: block/flow collections on one line, plain and quoted
 * scalars, comments) or JSON into plain data, for a builder's form. @throws {YamlSubsetError}
 */
export function parseYaml(text: string): JsonValue;

/**
 * One JSON Patch operation (a finding's fix or a form's edit) applied by the page's
 * component to a manifest's text, edited at the span of the node it names: comments,
 * layout and every other line kept (JSON stays JSON). @throws {MicrovetError} when it does not apply
 */
export function applyFix(text: string, patch: PatchOperation): Promise<string>;

/** `/client/redirect_uris/0` → `['client', 'redirect_uris', '0']` (RFC 6901 unescaping). */
export function pointerTokens(pointer: string): string[];

/** YAML the panel's small reader does not handle (anchors, tags, block scalars, …); the component may still accept it. */
export class YamlSubsetError extends Error {
  readonly name: 'YamlSubsetError';
  /** 1-based line, where known. */
  readonly line?: number;
}

declare global {
  interface HTMLElementTagNameMap {
    'microvet-panel': MicrovetPanel;
  }
}
