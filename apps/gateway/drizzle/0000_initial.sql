CREATE TABLE "accounts" (
	"auth_id" text PRIMARY KEY NOT NULL,
	"auth_token" text NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mpcs" (
	"mpc_uuid" uuid PRIMARY KEY NOT NULL,
	"auth_id" text NOT NULL,
	"friendly_name" text NOT NULL,
	"status" text NOT NULL,
	"stay_alone" boolean NOT NULL,
	"max_duration" integer NOT NULL,
	"max_participants" integer NOT NULL,
	"created_at" timestamp (6) with time zone NOT NULL,
	"started_at" timestamp (6) with time zone,
	"ended_at" timestamp (6) with time zone,
	"termination_cause_code" integer
);
--> statement-breakpoint
CREATE TABLE "participants" (
	"member_id" bigserial PRIMARY KEY NOT NULL,
	"mpc_uuid" uuid NOT NULL,
	"call_uuid" text NOT NULL,
	"role" text NOT NULL,
	"from_number" text,
	"to_number" text,
	"coach_mode" boolean NOT NULL,
	"mute" boolean NOT NULL,
	"hold" boolean NOT NULL,
	"start_mpc_on_enter" boolean NOT NULL,
	"end_mpc_on_exit" boolean NOT NULL,
	"stay_alone" boolean NOT NULL,
	"joined_at" timestamp (6) with time zone NOT NULL,
	"exited_at" timestamp (6) with time zone,
	"exit_cause" text
);
--> statement-breakpoint
CREATE TABLE "recordings" (
	"recording_id" uuid PRIMARY KEY NOT NULL,
	"auth_id" text NOT NULL,
	"mpc_uuid" uuid NOT NULL,
	"member_id" bigint,
	"scope" text NOT NULL,
	"track_type" text,
	"file_format" text NOT NULL,
	"callback_url" text,
	"callback_method" text NOT NULL,
	"status" text NOT NULL,
	"added_at" timestamp (6) with time zone NOT NULL,
	"started_at" timestamp (6) with time zone NOT NULL,
	"ended_at" timestamp (6) with time zone,
	"recorded_ms" bigint DEFAULT 0 NOT NULL,
	"segment_started_at" timestamp (6) with time zone,
	"failure_reason" text
);
--> statement-breakpoint
ALTER TABLE "mpcs" ADD CONSTRAINT "mpcs_auth_id_accounts_auth_id_fk" FOREIGN KEY ("auth_id") REFERENCES "public"."accounts"("auth_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "participants" ADD CONSTRAINT "participants_mpc_uuid_mpcs_mpc_uuid_fk" FOREIGN KEY ("mpc_uuid") REFERENCES "public"."mpcs"("mpc_uuid") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_auth_id_accounts_auth_id_fk" FOREIGN KEY ("auth_id") REFERENCES "public"."accounts"("auth_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_mpc_uuid_mpcs_mpc_uuid_fk" FOREIGN KEY ("mpc_uuid") REFERENCES "public"."mpcs"("mpc_uuid") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_member_id_participants_member_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."participants"("member_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mpcs_live_name" ON "mpcs" USING btree ("auth_id","friendly_name") WHERE "mpcs"."status" <> 'Ended';--> statement-breakpoint
CREATE INDEX "mpcs_account_created" ON "mpcs" USING btree ("auth_id","created_at");--> statement-breakpoint
CREATE INDEX "participants_mpc" ON "participants" USING btree ("mpc_uuid");--> statement-breakpoint
CREATE UNIQUE INDEX "participants_present_call" ON "participants" USING btree ("call_uuid") WHERE "participants"."exited_at" is null;--> statement-breakpoint
CREATE INDEX "recordings_account_added" ON "recordings" USING btree ("auth_id","added_at");--> statement-breakpoint
CREATE UNIQUE INDEX "recordings_live_mpc" ON "recordings" USING btree ("mpc_uuid") WHERE "recordings"."scope" = 'mpc' and "recordings"."status" in ('recording', 'paused');--> statement-breakpoint
CREATE UNIQUE INDEX "recordings_live_participant" ON "recordings" USING btree ("member_id","track_type") WHERE "recordings"."scope" = 'participant' and "recordings"."status" in ('recording', 'paused');