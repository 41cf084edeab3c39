from apikeys.tests.conftest import make_user  # noqa: F401 (shared fixture)
from conversions.tests.conftest import no_worker  # noqa: F401 (shared fixture)
