/** The part of negotiator@1's API Elrond uses (the package ships no types); Express' req.acceptsEncodings runs on it. */
declare module 'negotiator' {
  export default class Negotiator {
    constructor(request: { headers: Record<string, string | string[] | undefined> });
    /** The codings of `available` the request accepts, most preferred first. */
    encodings(available?: string[]): string[];
  }
}
