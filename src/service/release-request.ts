import { z } from 'zod';
import { image, reason, version } from './inputs.js';

/** What to release: the original's RingReleaseRequest (image, version, force, env) plus a reason and a freeze override. */
export const ReleaseRequest = z.object({
  image: image.optional().or(z.literal('')),
  version: version.optional().or(z.literal('')),
  force: z.boolean().optional(),
  envVariables: z.unknown().optional(),
  reason: reason.optional(),
  overrideFreeze: z.boolean().optional(),
  /** An all-rings release limited to these ring ids (the release form sends it). */
  rings: z.array(z.string().max(64)).max(1000).optional(),
});
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;
