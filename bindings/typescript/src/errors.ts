// Typed errors, one class per status of cairn.v1.Code, so that callers can
// write `catch (e) { if (e instanceof NotFoundError) ... }` or test
// `e.code === Code.NOT_FOUND`.
import { Code } from "./gen/cairn_pb.js";

/** CairnError is every error the client raises: a status and why. */
export class CairnError extends Error {
  /** The status, numbered as gRPC's (cairn.v1.Code). */
  readonly code: Code;
  /** The rpc that failed ("Enqueue"), when there was one. */
  readonly method: string | undefined;

  constructor(code: Code, message: string, method?: string) {
    super(message);
    this.code = code;
    this.method = method;
    this.name = new.target.name;
  }

  /** The status's name: "NOT_FOUND". */
  get codeName(): string {
    return Code[this.code] ?? `CODE_${this.code}`;
  }
}

export class CancelledError extends CairnError {}
export class UnknownError extends CairnError {}
export class InvalidArgumentError extends CairnError {
  constructor(message: string, method?: string) {
    super(Code.INVALID_ARGUMENT, message, method);
  }
}
export class DeadlineExceededError extends CairnError {}
export class NotFoundError extends CairnError {}
export class AlreadyExistsError extends CairnError {}
export class PermissionDeniedError extends CairnError {}
export class ResourceExhaustedError extends CairnError {}
export class FailedPreconditionError extends CairnError {}
/**
 * LeaseLostError is the FAILED_PRECONDITION of a heartbeat, complete or
 * fail whose lease is gone (its message starts with "lease lost:"): stop
 * working on the task, its next attempt may be running elsewhere.
 */
export class LeaseLostError extends FailedPreconditionError {}
export class AbortedError extends CairnError {}
export class OutOfRangeError extends CairnError {}
export class UnimplementedError extends CairnError {}
export class InternalError extends CairnError {}
export class UnavailableError extends CairnError {}
export class DataLossError extends CairnError {}
export class UnauthenticatedError extends CairnError {}

const classes: Partial<Record<Code, new (c: Code, m: string, method?: string) => CairnError>> = {
  [Code.CANCELLED]: CancelledError,
  [Code.UNKNOWN]: UnknownError,
  [Code.DEADLINE_EXCEEDED]: DeadlineExceededError,
  [Code.NOT_FOUND]: NotFoundError,
  [Code.ALREADY_EXISTS]: AlreadyExistsError,
  [Code.PERMISSION_DENIED]: PermissionDeniedError,
  [Code.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [Code.FAILED_PRECONDITION]: FailedPreconditionError,
  [Code.ABORTED]: AbortedError,
  [Code.OUT_OF_RANGE]: OutOfRangeError,
  [Code.UNIMPLEMENTED]: UnimplementedError,
  [Code.INTERNAL]: InternalError,
  [Code.UNAVAILABLE]: UnavailableError,
  [Code.DATA_LOSS]: DataLossError,
  [Code.UNAUTHENTICATED]: UnauthenticatedError,
};

/**
 * errorFor makes the error of a reply with a status other than OK (or of a
 * local failure): the class of its code, LeaseLostError for a lost lease,
 * and UnknownError for a code this client does not know.
 */
export function errorFor(code: Code, message: string, method?: string): CairnError {
  if (code === Code.INVALID_ARGUMENT) return new InvalidArgumentError(message, method);
  if (code === Code.FAILED_PRECONDITION && message.startsWith("lease lost:")) {
    return new LeaseLostError(code, message, method);
  }
  const cls = classes[code] ?? UnknownError;
  return new cls(code, message || Code[code] || `status ${code}`, method);
}
