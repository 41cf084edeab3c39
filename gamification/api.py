"""Rewards endpoints (/api/rewards/): parse, call one service or selector, serialize."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from anclora.core.bounds import BIGINT_MAX, INT32_MAX, LEVEL_MAX, LEVEL_MIN
from anclora.core.pagination import paginated_response, paginated_schema

from . import selectors, services
from .models import Achievement, RewardAction

# Input bounds (SECURITY.md "Input bounds"): the service adds the finer rules (minimum, multiple of 100).
LEADERBOARD_MAX_LIMIT_PARAM = 10_000
MAX_REDEEM_POINTS = 1_000_000_000


class RewardsLevelSerializer(serializers.Serializer):
    level = serializers.IntegerField(min_value=LEVEL_MIN, max_value=LEVEL_MAX)
    min_points = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    title = serializers.CharField()


class RewardsAchievementSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField()
    category = serializers.ChoiceField(choices=Achievement.Category.values)
    points_reward = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    rarity = serializers.ChoiceField(choices=Achievement.Rarity.values)


class ProfileApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        class ProfileSerializer(serializers.Serializer):
            class UserInfoSerializer(serializers.Serializer):
                level = serializers.IntegerField(min_value=LEVEL_MIN, max_value=LEVEL_MAX)
                total_points = serializers.IntegerField(
                    min_value=0, max_value=INT32_MAX, help_text="Spendable balance.",
                )
                lifetime_points = serializers.IntegerField(
                    min_value=0, max_value=INT32_MAX, help_text="Ever earned; the level follows it.",
                )
                current_streak = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
                longest_streak = serializers.IntegerField(min_value=0, max_value=INT32_MAX)

            class LevelInfoSerializer(serializers.Serializer):
                current = RewardsLevelSerializer()
                next = RewardsLevelSerializer(allow_null=True, help_text="null at the top level.")
                progress_percentage = serializers.FloatField()

            class AchievementsSerializer(serializers.Serializer):
                class UnlockedSerializer(RewardsAchievementSerializer):
                    unlocked_at = serializers.DateTimeField()

                unlocked = UnlockedSerializer(many=True)
                total_unlocked = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
                total_available = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)

            class StatisticsSerializer(serializers.Serializer):
                total_conversions = serializers.IntegerField(
                    min_value=0, max_value=BIGINT_MAX, help_text="Completed conversions.",
                )
                total_spent_eur = serializers.DecimalField(
                    max_digits=12, decimal_places=2, coerce_to_string=False,
                    help_text="Sum of the payments that earned points (payment_succeeded events).",
                )
                member_since = serializers.DateTimeField()

            user_info = UserInfoSerializer()
            level_info = LevelInfoSerializer()
            achievements = AchievementsSerializer()
            statistics = StatisticsSerializer()

        profile = ProfileSerializer()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        profile = selectors.rewards_profile(user=request.user)
        return Response(self.OutputSerializer({"profile": profile}).data)


class LeaderboardApi(APIView):
    class InputSerializer(serializers.Serializer):
        period = serializers.ChoiceField(choices=selectors.PERIODS, default="all_time")
        limit = serializers.IntegerField(
            min_value=1, max_value=LEADERBOARD_MAX_LIMIT_PARAM, default=selectors.LEADERBOARD_DEFAULT_LIMIT,
            help_text="1 to 10000; values above 100 are treated as 100.",
        )

    class OutputSerializer(serializers.Serializer):
        class EntrySerializer(serializers.Serializer):
            rank = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
            user_id = serializers.UUIDField()
            username = serializers.CharField(help_text='"First name + initial", e.g. "María G."')
            level = serializers.IntegerField(min_value=LEVEL_MIN, max_value=LEVEL_MAX)
            level_title = serializers.CharField()
            total_points = serializers.IntegerField(
                min_value=0, max_value=INT32_MAX,
                help_text="all_time: lifetime points; weekly / monthly: points earned in the period."
            )
            current_streak = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
            achievements_count = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)

        period = serializers.ChoiceField(choices=selectors.PERIODS)
        leaderboard = EntrySerializer(many=True)
        total_users = serializers.IntegerField(
            min_value=0, max_value=BIGINT_MAX, help_text="Number of entries returned.",
        )
        generated_at = serializers.DateTimeField()

    @extend_schema(parameters=[InputSerializer], responses={200: OutputSerializer})
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        board = selectors.leaderboard(**params.validated_data)
        return Response(self.OutputSerializer(board).data)


class AchievementsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class ItemSerializer(RewardsAchievementSerializer):
            unlocked = serializers.BooleanField(help_text="For the caller; false when anonymous.")

        achievements = ItemSerializer(many=True)
        total_available = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
        user_unlocked = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer(selectors.achievements_for(user=request.user)).data)


class ChallengesApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class ChallengeSerializer(serializers.Serializer):
            id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
            kind = serializers.ChoiceField(choices=["conversions", "formats", "streak", "big_files"])
            title = serializers.CharField()
            description = serializers.CharField()
            target = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
            points_reward = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
            starts_at = serializers.DateTimeField()
            ends_at = serializers.DateTimeField()
            progress = serializers.IntegerField(
                min_value=0, max_value=INT32_MAX, help_text="The caller's progress (0 when anonymous).",
            )
            progress_percentage = serializers.FloatField()
            completed = serializers.BooleanField()
            completed_at = serializers.DateTimeField(allow_null=True)

        week_start = serializers.DateField()
        challenges = ChallengeSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        challenges = services.challenges_current()
        items = selectors.challenges_with_progress(challenges=challenges, user=request.user)
        week_start = challenges[0].week_start if challenges else None
        return Response(self.OutputSerializer({"week_start": week_start, "challenges": items}).data)


class HistoryApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
        action = serializers.ChoiceField(choices=RewardAction.choices)
        action_display = serializers.CharField(source="get_action_display")
        points = serializers.IntegerField(
            min_value=-INT32_MAX - 1, max_value=INT32_MAX, help_text="Negative for redemptions.",
        )
        subject_type = serializers.CharField()
        subject_id = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(operation_id="rewards_history_list", responses={200: paginated_schema(OutputSerializer)})
    def get(self, request):
        return paginated_response(request, selectors.reward_history(user=request.user), self.OutputSerializer,
                                  view=self)


class RedeemCreditsApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        points = serializers.IntegerField(
            min_value=1, max_value=MAX_REDEEM_POINTS,
            help_text="At least 100 and a multiple of 100 (100 points = 1 credit); anything else is 400.",
        )

    class OutputSerializer(serializers.Serializer):
        message = serializers.CharField()
        points_redeemed = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
        credits_awarded = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
        remaining_points = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
        total_credits = serializers.IntegerField(min_value=0, max_value=INT32_MAX)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.rewards_redeem_credits(user=request.user, points=data.validated_data["points"])
        return Response(self.OutputSerializer(
            {"message": _("Puntos canjeados exitosamente"), **result.__dict__}
        ).data)


class AwardOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    awarded = serializers.BooleanField(help_text="false when this was already rewarded (no points twice).")
    points_awarded = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    total_points = serializers.IntegerField(min_value=0, max_value=INT32_MAX)


def _award_response(result) -> Response:
    message = _("¡Gracias! Has ganado %(points)d puntos.") % {"points": result.points} if result.awarded \
        else _("Ya recibiste puntos por esto.")
    return Response(AwardOutputSerializer({
        "message": message, "awarded": result.awarded, "points_awarded": result.points,
        "total_points": result.total_points,
    }).data)


class FeedbackApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        conversion_id = serializers.UUIDField()

    @extend_schema(request=InputSerializer, responses={200: AwardOutputSerializer},
                   description="15 points for feedback on one of your completed conversions, once per conversion.")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _award_response(services.rewards_feedback(user=request.user, **data.validated_data))


class ShareApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: AwardOutputSerializer},
                   description="20 points for sharing, once per day (in your time zone).")
    def post(self, request):
        return _award_response(services.rewards_share(user=request.user))

