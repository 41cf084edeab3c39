"""The documented range of API integers (SECURITY.md "Input bounds"): serializers use these so that
the OpenAPI schema shows a minimum and a maximum for every integer, in requests and responses."""

INT32_MAX = 2**31 - 1  # an IntegerField column (a Postgres integer): points, credits, streaks
BIGINT_MAX = 2**63 - 1  # a BigIntegerField / BigAutoField column, or a COUNT(*): ids, byte sizes, counts
LEVEL_MIN, LEVEL_MAX = 1, 10  # User.level (CheckConstraint user_level_1_10)
