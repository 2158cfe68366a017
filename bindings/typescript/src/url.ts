// Server addresses, as nng writes them: tcp://host:port, tls+tcp://host:port
// and ipc:///path.
import { InvalidArgumentError } from "./errors.js";

export type Address =
  | { scheme: "tcp" | "tls+tcp"; host: string; port: number; url: string }
  | { scheme: "ipc"; path: string; url: string };

/** The address cairnd listens on unless told otherwise. */
export const DEFAULT_URL = "tcp://127.0.0.1:7420";

/**
 * parseUrl reads a server address; it throws InvalidArgumentError, naming
 * what is wrong, for anything else (an http:// URL, a missing port).
 */
export function parseUrl(url: string): Address {
  const bad = (why: string) =>
    new InvalidArgumentError(
      `bad server URL ${JSON.stringify(url)}: ${why} ` +
        "(want tcp://HOST:PORT, tls+tcp://HOST:PORT or ipc:///PATH)",
    );
  const m = /^([a-z+0-9]+):\/\/(.*)$/.exec(url);
  if (m === null) throw bad("no scheme");
  const scheme = m[1];
  const rest = m[2];
  if (scheme === "ipc") {
    if (rest === "") throw bad("no path");
    return { scheme, path: rest, url };
  }
  if (scheme !== "tcp" && scheme !== "tls+tcp") {
    throw bad(`unknown scheme ${scheme}://`);
  }
  // [v6]:port or host:port; nng takes no user, path or query here.
  const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/?#@[\]]+)):(\d{1,5})$/.exec(rest);
  if (hp === null) throw bad("not HOST:PORT");
  const port = Number(hp[3]);
  if (port < 1 || port > 65535) throw bad(`port ${port} out of range`);
  return { scheme, host: hp[1] ?? hp[2], port, url };
}
