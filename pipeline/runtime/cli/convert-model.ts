// What the Collector-config converter's parts share: the path of a YAML node (for its line) and the
// account of what was left out (`drop`: could not be converted; `note`: converted with a remark).

/** YamlPath is the path of a node in the Collector YAML document (keys and list indexes). */
export type YamlPath = readonly (string | number)[];

/** Converter collects what a conversion left out or changed. */
export interface Converter {
  /** drop records something that could not be converted (the command then exits non-zero). */
  drop(path: YamlPath, why: string): void;
  /** note records a remark on something converted (or harmlessly left out). */
  note(path: YamlPath, what: string): void;
}

/** Remark is one recorded drop or note. */
export interface Remark {
  readonly kind: 'dropped' | 'note';
  readonly path: YamlPath;
  readonly message: string;
}
