from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    """Django's admin on the product's site (accounts.admin_site): its login goes through the
    same credential check, lockout and audit as the API and the web UI."""

    default_site = "accounts.admin_site.PlatformAdminSite"
