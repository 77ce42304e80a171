"""Django's ``changepassword``, which also ends the user's logins and is audited.

(The accounts app comes before django.contrib.auth in INSTALLED_APPS, so this one is found.)
"""

import getpass

from django.contrib.auth.management.commands import changepassword
from django.db import transaction

from accounts import services
from accounts.models import User


class Command(changepassword.Command):
    def handle(self, *args: object, **options: object) -> str:
        with transaction.atomic(using=options["database"]):
            message = super().handle(*args, **options)
            username = options["username"] or getpass.getuser()
            user = User._default_manager.using(options["database"]).get(
                **{User.USERNAME_FIELD: username}
            )
            services.user_password_changed(user=user, actor=None, via="manage.py changepassword")
        return message
