"""A model of the monolith's recommendation flow (dennisjooo/moodlist at 3b7cf15, before the latency plan),
as a plain HTTP client of the simulator. Facts and section numbers come from
../shared/reference/original-monolith.md (cited as "§n" in comments).
"""
