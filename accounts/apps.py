from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The audit of a refused request names its user from a clean bearer token.
        from accounts.auth import user_from_access_token
        from audit.middleware import name_bearers_with

        name_bearers_with(user_from_access_token)
