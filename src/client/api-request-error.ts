/**
 * A failed call to the Elrond REST API, with a one-line message for people:
 * `404 ring k3s… not found`, or `cannot reach the Elrond server at … (ECONNREFUSED): …`.
 */
export class ApiRequestError extends Error {
  /** The HTTP status, or undefined when the server could not be reached at all. */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
  }
}
