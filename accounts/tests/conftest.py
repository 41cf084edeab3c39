from factories import PASSWORD  # noqa: F401 (the tests' password; users come from the root make_user)
