ALTER TABLE "callback_events" ADD COLUMN "receiver" text;--> statement-breakpoint
-- Events written before: their URL's scheme, host and port, lowercased, without user info or a default port; near enough to receiverOf for the few still pending.
UPDATE "callback_events" SET "receiver" = regexp_replace(
  lower(coalesce(regexp_replace(substring("url" from '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*'), '://.*@', '://'), "url")),
  '^(http://.*):80$|^(https://.*):443$', '\1\2');--> statement-breakpoint
ALTER TABLE "callback_events" ALTER COLUMN "receiver" SET NOT NULL;
