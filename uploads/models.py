from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import AnonymousSession, User
from anclora.core.models import BaseModel


class ResumableUpload(BaseModel):
    """A resumable upload, until `offset == length`.

    `tus`: bytes appended in chunks to a local file (`path`). `s3` (STORAGE=s3): an S3 multipart
    upload (`storage_name` in the default storage, `s3_upload_id`) whose parts the client PUTs to
    presigned URLs; completed by the server from S3's own list of parts."""

    class Backend(models.TextChoices):
        TUS = "tus", "tus"
        S3 = "s3", "S3 multipart"

    user = models.ForeignKey(User, verbose_name=_("usuario"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="resumable_uploads")
    session = models.ForeignKey(AnonymousSession, verbose_name=_("sesión"), null=True, blank=True,
                                on_delete=models.CASCADE,
                                related_name="resumable_uploads")
    filename = models.CharField(_("nombre de archivo"), max_length=255)
    length = models.BigIntegerField(_("longitud"), help_text=_("Upload-Length, en bytes"))
    offset = models.BigIntegerField(_("desplazamiento"), default=0, help_text=_("bytes recibidos"))
    backend = models.CharField(_("sistema de subida"), max_length=8, choices=Backend.choices, default=Backend.TUS)
    path = models.CharField(_("ruta"), max_length=512, blank=True, help_text=_("archivo local con los bytes recibidos"))
    storage_name = models.CharField(_("nombre en el almacenamiento"), max_length=512, blank=True,
                                    help_text=_("nombre del objeto en el almacenamiento (subida S3)"))
    s3_upload_id = models.CharField(_("id de subida S3"), max_length=1024, blank=True)
    part_size = models.BigIntegerField(_("tamaño de parte"), default=0, help_text=_("bytes por parte (subida S3)"))
    expires_at = models.DateTimeField(_("caduca el"), db_index=True)
    completed_at = models.DateTimeField(_("completado el"), null=True, blank=True)
    address_hash = models.CharField(_("dirección (hash)"), max_length=64, blank=True, db_index=True,
                                    help_text=_("HMAC de la dirección del cliente que la creó (límite por dirección)"))

    class Meta:
        verbose_name = _("subida reanudable")
        verbose_name_plural = _("subidas reanudables")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | Q(session__isnull=False),
                                   name="resumable_upload_has_owner"),
            models.CheckConstraint(condition=Q(offset__gte=0, length__gte=0) & Q(offset__lte=F("length")),
                                   name="resumable_upload_offset_within_length"),
        ]

    def __str__(self):
        return f"{self.filename} ({self.offset}/{self.length})"

    @property
    def is_complete(self) -> bool:
        return self.offset == self.length
