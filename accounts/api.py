"""Auth and user endpoints: parse, call one service, serialize."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from anclora.core.bounds import INT32_MAX, LEVEL_MAX, LEVEL_MIN

from . import password_reset, services, verification
from .abuse import signup_slot


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    level = serializers.IntegerField(min_value=LEVEL_MIN, max_value=LEVEL_MAX)
    total_points = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    lifetime_points = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    current_streak = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    longest_streak = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    conversion_credits = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    language = serializers.CharField()
    time_zone = serializers.CharField()
    is_admin = serializers.BooleanField()
    date_joined = serializers.DateTimeField()
    email_verified = serializers.SerializerMethodField(
        help_text="false until the e-mail is verified: an unverified account earns no rewards.")
    email_verified_at = serializers.DateTimeField(allow_null=True)
    pending_email = serializers.EmailField(
        max_length=254, allow_blank=True,
        help_text="A new address waiting for its link to be opened; the login e-mail until then is `email`.")

    def get_email_verified(self, user) -> bool:
        return user.email_verified_at is not None


class UserEnvelopeSerializer(serializers.Serializer):
    user = UserOutputSerializer()


class UserUpdateOutputSerializer(UserEnvelopeSerializer):
    access_token = serializers.CharField(
        required=False, help_text="Only after a password change: every earlier token (this one's too) is revoked; "
                                  "this new pair keeps the caller signed in.")
    refresh_token = serializers.CharField(required=False)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class AuthOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    user = UserOutputSerializer()
    session_adopted = serializers.BooleanField(required=False)


def _auth_response(user, message: str, code: int = 200) -> Response:
    body = {"message": message, **services.tokens_for_user(user),
            "user": UserOutputSerializer(user).data}
    return Response(body, status=code)


class RegisterApi(APIView):
    authentication_classes = []
    permission_classes = []

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
        language = serializers.ChoiceField(choices=["es", "en"], required=False, default="es")
        session_id = serializers.UUIDField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: AuthOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with signup_slot(request):
            user = services.user_create(**data.validated_data,
                                        verification_base_url=request.build_absolute_uri("/"))
        return _auth_response(user, _("Usuario registrado exitosamente"), status.HTTP_201_CREATED)


class LoginApi(APIView):
    authentication_classes = []
    permission_classes = []

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        session_id = serializers.UUIDField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: AuthOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_login(request=request, **data.validated_data)
        return _auth_response(user, _("Login exitoso"))


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserEnvelopeSerializer})
    def get(self, request):
        return Response({"user": UserOutputSerializer(request.user).data})


class RefreshApi(APIView):
    authentication_classes = []
    permission_classes = []

    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField(max_length=2048)

    class OutputSerializer(serializers.Serializer):
        access_token = serializers.CharField()
        refresh_token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.token_refresh(refresh=data.validated_data["refresh"]))


class LogoutApi(APIView):
    authentication_classes = []
    permission_classes = []

    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField(max_length=2048)

    @extend_schema(request=InputSerializer, responses={200: MessageSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.token_blacklist(refresh=data.validated_data["refresh"])
        return Response({"message": _("Sesión cerrada")})


class UserMeApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        language = serializers.CharField(max_length=8, required=False)
        time_zone = serializers.CharField(max_length=64, required=False)
        old_password = serializers.CharField(max_length=128, required=False, trim_whitespace=False,
                                             help_text="The current password: needed for new_password and email.")
        new_password = serializers.CharField(max_length=128, required=False, trim_whitespace=False)
        email = serializers.EmailField(
            max_length=254, required=False,
            help_text="New login e-mail: a link goes to it and it replaces the current one once opened "
                      "(pending_email until then). 409 email_taken if another account uses it.")

    @extend_schema(request=InputSerializer, responses={200: UserUpdateOutputSerializer})
    def patch(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data,
                                    verification_base_url=request.build_absolute_uri("/"))
        body = {"user": UserOutputSerializer(user).data}
        if "new_password" in data.validated_data:  # the earlier tokens died with the old password
            body.update(services.tokens_for_user(user))
        return Response(body)

    @extend_schema(responses={204: None})
    def delete(self, request):
        services.user_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- password reset -----------------------------------------------------------------
class PasswordResetApi(APIView):
    """Ask for a reset link by e-mail: always 202 with the same body, whether the address exists or not.

    Over the per-e-mail limit the answer is the same and nothing is sent; over the per-address limit,
    429 with Retry-After.
    """

    authentication_classes = []
    permission_classes = []

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)

    @extend_schema(request=InputSerializer, responses={202: MessageSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password_reset.password_reset_request(email=data.validated_data["email"], request=request)
        return Response({"message": password_reset.request_answer()}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(APIView):
    """Set a new password with the e-mailed link's uid and token; every refresh token is revoked."""

    authentication_classes = []
    permission_classes = []

    class InputSerializer(serializers.Serializer):
        uid = serializers.CharField(max_length=password_reset.UID_MAX_LENGTH)
        token = serializers.CharField(max_length=password_reset.TOKEN_MAX_LENGTH)
        new_password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={200: MessageSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        password_reset.password_reset_confirm(uidb64=values["uid"], token=values["token"],
                                              new_password=values["new_password"])
        return Response({"message": _("Contraseña cambiada. Ya puedes iniciar sesión con la nueva.")})


# --- e-mail verification ------------------------------------------------------------
class VerifyEmailApi(APIView):
    """Open an e-mailed verification link: the account (or its new address) becomes verified.

    400 invalid_token (used, tampered or foreign), 400 token_expired, 409 email_taken (a new address
    taken meanwhile by another account). No login needed: the link may be opened anywhere.
    """

    authentication_classes = []
    permission_classes = []

    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=verification.TOKEN_MAX_LENGTH)

    @extend_schema(request=InputSerializer, responses={200: UserEnvelopeSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = verification.email_verify(token=data.validated_data["token"])
        return Response({"user": UserOutputSerializer(user).data})


class VerifyEmailResendApi(APIView):
    """Send the verification link again (to the pending new address if there is one): 202; 429 with
    Retry-After within the cool-down; 400 already_verified when there is nothing to verify."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: MessageSerializer})
    def post(self, request):
        verification.email_verification_resend(user=request.user, base_url=request.build_absolute_uri("/"))
        return Response({"message": _("Te hemos enviado un nuevo enlace de verificación.")},
                        status=status.HTTP_202_ACCEPTED)
