/** Everything a command touches of its process, so run() can be called with other streams (tests). */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** All of standard input: what a file argument of "-" reads. */
  readonly readStdin: () => string;
  /** All of standard input as bytes: what a binary file argument of "-" reads. */
  readonly readStdinBytes?: () => Uint8Array;
  /** The directory relative paths are read and written from. */
  readonly cwd: string;
  /** Progress lines are drawn on stderr only when it is a terminal, so logs stay clean (asked only when a command has progress to draw). */
  readonly stderrIsTTY: boolean;
}
