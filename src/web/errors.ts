/** The web module's own error: a malformed form or JSON body (400, never a 500). */
import { OciError } from "../registry/index.ts";

export class WebInputError extends OciError {
  constructor(message: string, detail?: unknown) {
    super("UNSUPPORTED", message, { status: 400, detail });
  }
}

/** A write with a browser session but without its CSRF token. */
export class CsrfError extends OciError {
  constructor() {
    super("DENIED", "missing or wrong CSRF token: reload the page and try again");
  }
}
