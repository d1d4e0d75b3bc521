from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone as django_timezone

from core.ids import PrefixedIdField


class Plan(models.Model):
    """A plan is data; its limits are enforced by the services that create what they limit."""

    id = models.SlugField(primary_key=True, max_length=32)
    name = models.CharField(max_length=64)
    price_cents = models.PositiveIntegerField(default=0)
    messages_per_month = models.PositiveIntegerField()
    max_rate_limit = models.PositiveIntegerField(help_text="Highest destination rate_limit (per second).")
    max_sub_accounts = models.PositiveIntegerField()
    log_retention_days = models.PositiveIntegerField()
    max_body_bytes = models.PositiveIntegerField(default=1024 * 1024)
    public = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"

    id = PrefixedIdField(prefix="AC")
    name = models.CharField(max_length=255)
    account_key = models.CharField(max_length=255, blank=True, default="")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # Materialised path of ids from the root ("ACroot/ACchild/"): a prefix match finds every descendant.
    path = models.CharField(max_length=1024, db_index=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accounts")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    referrer = models.CharField(max_length=255, blank=True, default="")
    created = models.DateTimeField(default=django_timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["parent", "account_key"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def root_id(self) -> str:
        return self.path.split("/", 1)[0]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email_address: str, password: str | None = None, **fields) -> User:
        user = self.model(email_address=self.normalize_email(email_address).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email_address: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email_address, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class PermissionLevel(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        DEVELOPER = "developer"
        VIEWER = "viewer"

    id = PrefixedIdField(prefix="US")
    # Operators created with createsuperuser have no account; API users always have one.
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    email_address = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    permission_level = models.CharField(
        max_length=16, choices=PermissionLevel.choices, default=PermissionLevel.DEVELOPER
    )
    timezone = models.CharField(max_length=64, default="Etc/GMT")
    email_verified = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created = models.DateTimeField(default=django_timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email_address"
    EMAIL_FIELD = "email_address"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.email_address


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 digest is stored; the plain token is shown once."""

    class Kind(models.TextChoices):
        API = "api"
        SESSION = "session"

    class Scope(models.TextChoices):
        """What a token limited to scopes may do (seed 003's permissions)."""

        WEBHOOKS_VIEW = "WEBHOOKS:VIEW"
        WEBHOOKS_ADD = "WEBHOOKS:ADD"
        WEBHOOKS_EDIT = "WEBHOOKS:EDIT"
        WEBHOOKS_REMOVE = "WEBHOOKS:REMOVE"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.API)
    name = models.CharField(max_length=128, blank=True, default="")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="First characters, to recognise it.")
    scopes = models.JSONField(default=list, blank=True, help_text="Empty: every scope.")
    created = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.kind})"


class UserKey(models.Model):
    """A single-use emailed key (password change ``CK…`` or email verification ``EV…``), stored hashed."""

    class Purpose(models.TextChoices):
        PASSWORD_CHANGE = "password_change"
        EMAIL_VERIFICATION = "email_verification"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="keys")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    callback_url = models.URLField(max_length=2048, blank=True, default="")
    created = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.purpose} key for {self.user_id}"
