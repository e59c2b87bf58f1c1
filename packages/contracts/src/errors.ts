import { z } from 'zod';

export const ErrorBodySchema = z
  .object({
    api_id: z.string().meta({ description: 'Identifier of the request that failed; it is also in the gateway log.' }),
    error: z.string().meta({ description: 'What went wrong, in words.' }),
  })
  .meta({ id: 'Error', description: "Plivo's error body, sent with every 4xx and 5xx status." });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
