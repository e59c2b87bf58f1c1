ALTER TABLE "recordings" ADD COLUMN "file_bytes" bigint;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "sample_rate" integer;