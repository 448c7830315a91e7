// Public types of the `microvet` package (hand-written; they mirror wit/microvet.wit and
// the canonical verdict JSON, whose keys are snake_case and enum values kebab-case).

declare global {
  interface SymbolConstructor {
    /**
     * `Symbol.dispose` (explicit resource management), declared here as `lib.esnext.disposable`
     * and `@types/node` declare it, so that `Policy[Symbol.dispose]` type-checks for consumers
     * on `lib: es2022` too (TypeScript merges the identical declarations).
     */
    readonly dispose: unique symbol;
  }
}

/** How bad a finding is, least to most severe. */
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** What the organisation should do with the app. */
export type Decision = 'approve' | 'approve-with-controls' | 'remediate' | 'reject';

/** Risk tier: low < 25 <= medium < 50 <= high < 75 <= critical. */
export type Tier = 'low' | 'medium' | 'high' | 'critical';

/** Any JSON value (fix and control values are JSON in the canonical verdict). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A machine-applicable change, in JSON Patch (RFC 6902) terms. */
export interface Fix {
  op: 'add' | 'replace' | 'remove';
  /** RFC 6901 pointer into the manifest. */
  path: string;
  /** The new value (absent for `remove`). */
  value?: JsonValue;
  /** What the fix does, for people. */
  description: string;
}

/** One problem (or advice) found in the manifest. */
export interface Finding {
  /** Stable rule ID, e.g. `MV-SCOPE-002`. */
  rule: string;
  severity: Severity;
  /** RFC 6901 pointer to the offending value (`""` for the whole document). */
  path: string;
  /** 1-based line in the submitted text, where known. */
  line?: number;
  message: string;
  fix?: Fix;
}

/** The waiver that covers a waived finding. */
export interface WaiverRef {
  /** The waiver's ID, e.g. `WVR-101`. */
  id: string;
  /** Why the exception was granted. */
  reason: string;
  /** Who approved it. */
  approved_by: string;
  /** The last day the waiver applies, `YYYY-MM-DD`. */
  expires: string;
}

/**
 * A finding a waiver in force covers: listed for the record, but not counted toward the
 * decision, the controls or the exposure part of the risk score.
 */
export type Waived = Finding & { waiver: WaiverRef };

/** Options of a vet call (`vet`, `vetJson`, `vetDcr`, `vetDcrJson`). */
export interface VetOptions {
  /**
   * The day of the vet: a `YYYY-MM-DD` string (UTC), a `Date` (its UTC day), or `null` for no
   * day (then no waiver applies, and each waiver for the app says so with an `MV-WAIVER-001`
   * finding). Omitted: today in UTC, from the page's (or the process's) clock. Waivers apply
   * from their `approved_on` through their `expires`.
   */
  today?: string | Date | null;
}

/** One contribution to the risk score. */
export interface RiskFactor {
  factor: string;
  points: number;
  reason: string;
}

/** The explained risk score. */
export interface Risk {
  /** 0..=100 */
  score: number;
  tier: Tier;
  factors: RiskFactor[];
}

/** A concrete control attached to an approval, e.g. `client_ttl_days`. */
export interface Control {
  control: string;
  /** A number, a string or a list. */
  value: JsonValue;
  reason: string;
}

/** The verdict, exactly as the server's JSON (parsed from the component's canonical JSON). */
export interface Verdict {
  decision: Decision;
  risk: Risk;
  /** Most severe first, then by path, then by rule. */
  findings: Finding[];
  /** The findings waivers cover, in the same order; present only when there are some. */
  waived?: Waived[];
  controls: Control[];
  /** Lowercase hex sha256 of the exact manifest bytes (UTF-8). */
  manifest_sha256: string;
  /** Lowercase hex sha256 of the exact policy bytes. */
  policy_sha256: string;
  /** `microvet x.y.z`. */
  engine: string;
}

/** One entry of `vetBatch`: a verdict, or why that manifest could not be vetted. */
export type BatchResult = { ok: true; verdict: Verdict } | { ok: false; error: MicrovetError };

/** The WIT `error-code`: what kind of error a `MicrovetError` is. */
export type ErrorCode =
  | 'syntax'
  | 'limit'
  | 'structure'
  | 'policy'
  | 'pkce-length'
  | 'pkce-charset'
  | 'pkce-challenge'
  | 'invalid-argument';

/** The JSON form of a `MicrovetError`, key order `code, message, help, path, line, column`. */
export interface MicrovetErrorJson {
  code: ErrorCode;
  message: string;
  help?: string;
  path?: string;
  line?: number;
  column?: number;
}

/**
 * Why an input could not be vetted at all (not YAML/JSON, over a limit, an invalid policy,
 * a malformed PKCE value). Problems inside a well-formed manifest are findings, not errors.
 */
export class MicrovetError extends Error {
  /** @internal */
  constructor(record: MicrovetErrorJson, cause?: unknown);
  readonly name: 'MicrovetError';
  /** Stable machine code (the WIT `error-code`). */
  code: ErrorCode;
  /** The likely fix. */
  help?: string;
  /** RFC 6901 pointer, where the error is at a field. */
  path?: string;
  /** 1-based line, where known. */
  line?: number;
  /** 1-based column, where known. */
  column?: number;
  /** `{code, message, help?, path?, line?, column?}`: the same bytes as the Rust side's JSON. */
  toJSON(): MicrovetErrorJson;
}

/** A parsed and validated policy: parse once, vet many. */
export class Policy {
  private constructor();
  /** Lowercase hex sha256 of the policy text. */
  readonly sha256: string;
  /** The policy's name. */
  readonly name: string;
  /**
   * This policy with the waivers of a waivers file (`waivers: [...]`, YAML or JSON) added
   * after its own; a new policy (`sha256` and `name` stay this one's).
   * @throws {MicrovetError} code `policy` (with the waiver's `path`) or `syntax`
   */
  withWaivers(waivers: string): Policy;
  /** Vet a manifest (YAML or JSON text) on `options.today` (default: today in UTC). @throws {MicrovetError} */
  vet(manifest: string, options?: VetOptions): Verdict;
  /** The canonical verdict JSON: the exact bytes every runtime produces. @throws {MicrovetError} */
  vetJson(manifest: string, options?: VetOptions): string;
  /** Vet a raw RFC 7591 dynamic client registration request (JSON text). @throws {MicrovetError} */
  vetDcr(request: string, options?: VetOptions): Verdict;
  /** The canonical verdict JSON of a DCR request. @throws {MicrovetError} */
  vetDcrJson(request: string, options?: VetOptions): string;
  /**
   * Vet many manifests in one call; one result each, in order; never throws `MicrovetError`.
   * Vetted on no particular day: no waiver applies (use `vet(manifest, {today})` for that).
   */
  vetBatch(manifests: readonly string[]): BatchResult[];
  /** Whether `dispose()` was called; a disposed policy cannot vet. */
  readonly disposed: boolean;
  /** Free the policy inside the component now (otherwise the garbage collector does). */
  dispose(): void;
  [Symbol.dispose](): void;
}

/** A PKCE code verifier with its S256 challenge. */
export interface PkcePair {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** Input of `pkce.authorizeUrl`. */
export interface AuthorizeUrlOptions {
  /** The authorization endpoint (https). */
  endpoint: string;
  clientId: string;
  redirectUri: string;
  /** `openid` adds a `nonce`. */
  scopes?: readonly string[];
  /** Additional query parameters. */
  extra?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;
}

/** An authorization request URL plus the secrets the app must keep. */
export interface AuthorizeRequest {
  url: string;
  verifier: string;
  challenge: string;
  state: string;
  /** Present when the `openid` scope is requested. */
  nonce?: string;
}

/** PKCE (RFC 7636) helpers. Only `S256` is ever produced; `plain` is refused. */
export interface Pkce {
  /** A verifier of `length` (43..=128, default 64) unreserved characters and its challenge. @throws {MicrovetError} */
  generate(length?: number): PkcePair;
  /** `count` pairs in one call. @throws {MicrovetError} */
  generateBatch(length: number, count: number): PkcePair[];
  /** The S256 challenge of a verifier (validated first). @throws {MicrovetError} */
  challenge(verifier: string): string;
  /** Constant-time check; `false` on mismatch. @throws {MicrovetError} on a malformed value */
  verify(verifier: string, challenge: string): boolean;
  /** An authorization-code request URL with PKCE S256, `state` and (for openid) `nonce`. @throws {MicrovetError} */
  authorizeUrl(options: AuthorizeUrlOptions): AuthorizeRequest;
}

/** One entry of the rule catalogue (`microvet explain ID` prints the same documentation). */
export interface RuleInfo {
  /** Stable ID, e.g. `MV-SCHEMA-001`; never reused. */
  id: string;
  /** kebab-case name, e.g. `unknown-field`. */
  name: string;
  /** e.g. `schema`, `identity`, `lifecycle`, `scopes`, `data`, `sinks`, `vendors`, `secrets`. */
  category: string;
  /** Default severity (a policy may change it). */
  severity: Severity;
  summary: string;
  /** What it checks. */
  what: string;
  /** Why it matters. */
  why: string;
  example: string;
  fix: string;
  /** RFC sections and documents. */
  references: string[];
}

/** One instance of the microvet component. */
export class Microvet {
  private constructor();
  /** `microvet x.y.z`. */
  readonly engine: string;
  readonly pkce: Pkce;
  /**
   * Whether this instance trapped (a wasm trap, or an import that threw through it); it then
   * cannot be used again (`load()` makes a new one).
   */
  readonly trapped: boolean;
  /**
   * The built-in default policy (cached) when `text` is omitted, else `text` parsed and
   * validated. @throws {MicrovetError}
   */
  policy(text?: string): Policy;
  /** The rule catalogue. */
  rules(): RuleInfo[];
  /**
   * Apply one fix (a finding's, or any JSON Patch `add` / `replace` / `remove`) to a manifest
   * (YAML or JSON text), editing the text at the span of the node it names: comments,
   * layout and every other line are kept. @throws {MicrovetError} when it does not apply
   */
  applyFix(manifest: string, fix: PatchOperation): string;
  /**
   * Apply fixes as `microvet fix` does (one per path; removals last, highest index first),
   * without vetting; fixes that do not apply are left out of `applied`.
   */
  applyFixes(manifest: string, fixes: PatchOperation[]): FixedManifest;
}

/** A JSON Patch (RFC 6902) operation the fix functions apply (a `Fix` is one). */
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  /** RFC 6901 pointer into the manifest. */
  path: string;
  /** The new value (absent for `remove`). */
  value?: JsonValue;
  description?: string;
}

/** The outcome of `applyFixes`. */
export interface FixedManifest {
  /** The manifest's text with the fixes applied (JSON stays JSON). */
  manifest: string;
  /** The fixes applied, in order. */
  applied: Fix[];
  /**
   * The document had to be written out again (comments and layout lost): an edit at a
   * span was not possible (a block scalar, an anchored or tagged value...).
   */
  rewritten: boolean;
}

export interface LoadOptions {
  /** A new instance instead of the shared one. */
  fresh?: boolean;
  /**
   * The URL of the core module `microvet.core.wasm`, e.g. what a bundler gives for
   * `import wasmUrl from 'microvet/core.wasm'` (esbuild's `file` loader, Vite's `?url`).
   * Relative URLs are resolved against the page.
   */
  wasmUrl?: string | URL;
  /** The directory `microvet.core.wasm` is served from (a CDN, a bundler's output directory). */
  componentUrl?: string | URL;
  /** The older name of `componentUrl`. */
  baseUrl?: string | URL;
}

/** Load (once per core module URL) and instantiate the component. */
export function load(options?: LoadOptions): Promise<Microvet>;

/**
 * Start downloading and compiling the core module now, so that a later `load()` with the
 * same options only instantiates it. Never rejects (`load()` reports a failure).
 */
export function preload(options?: Omit<LoadOptions, 'fresh'>): Promise<void>;

/**
 * The UTC day of `date` (default: now) as `YYYY-MM-DD`: the day a vet is made on when
 * `today` is omitted. @throws {RangeError} for an invalid Date or a year past 9999
 */
export function utcDay(date?: Date): string;

/** The core module URL `load(options)` would use. */
export function wasmUrlOf(options?: Omit<LoadOptions, 'fresh'>): URL;
