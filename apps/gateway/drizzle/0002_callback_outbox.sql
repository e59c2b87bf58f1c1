CREATE TABLE "callback_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" bigint NOT NULL,
	"attempted_at" timestamp (6) with time zone NOT NULL,
	"http_status" integer,
	"latency_ms" integer NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "callback_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"recording_id" uuid NOT NULL,
	"auth_id" text NOT NULL,
	"sequence_number" integer NOT NULL,
	"event_name" text NOT NULL,
	"url" text NOT NULL,
	"method" text NOT NULL,
	"params" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (6) with time zone NOT NULL,
	"created_at" timestamp (6) with time zone NOT NULL,
	"finished_at" timestamp (6) with time zone
);
--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "callback_sequence" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "callback_attempts" ADD CONSTRAINT "callback_attempts_event_id_callback_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."callback_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "callback_attempts_event" ON "callback_attempts" USING btree ("event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "callback_events_sequence" ON "callback_events" USING btree ("recording_id","sequence_number");--> statement-breakpoint
CREATE INDEX "callback_events_due" ON "callback_events" USING btree ("next_attempt_at") WHERE "callback_events"."status" = 'pending';