from tests.api.conftest import api_as, fresh_throttle_cache, key_for  # noqa: F401  (the API test fixtures)
