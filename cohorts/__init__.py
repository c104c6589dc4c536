"""The planning core: working-day calendars and dated schedules for cohorts.

Pure Python: takes plain values and returns plain values; never reads the
clock, a request or a database.
"""
