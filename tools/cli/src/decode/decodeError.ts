import { CliInputError } from '../commandLine/inputError.js';

/** A problem with what the user asked to decode; the message says what was expected. */
export class DecodeError extends CliInputError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
