import pytest

from accounts.models import User
from gamification.models import UserReward

pytestmark = pytest.mark.django_db


def test_rewards_page_needs_login(client):
    resp = client.get("/rewards/")
    assert resp.status_code == 302 and "/login/" in resp["Location"]


def test_rewards_page_renders(client, make_user, complete):
    user = make_user(first_name="María", last_name="García")
    complete(user)
    client.force_login(user)
    resp = client.get("/rewards/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "Recompensas" in html and 'href="/rewards/"' in html  # nav link
    assert "Explorador Digital" in html  # 110 points: level 2
    assert 'id="level-progress"' in html and 'value="5.0"' in html
    assert html.count('class="achievement"') == 1 and html.count('class="achievement locked"') == 14
    assert html.count("<progress") == 4  # level + 3 challenges
    assert "María G." in html
    assert '<label for="id_points">' in html
    for period in ("all_time", "weekly", "monthly"):
        assert f'href="?period={period}"' in html
    resp = client.get("/rewards/?period=weekly")
    assert 'href="?period=weekly" aria-current="page"' in resp.content.decode()
    assert client.get("/rewards/?period=nonsense").status_code == 200


def test_redeem_form(client, make_user):
    user = make_user()
    User.objects.filter(pk=user.pk).update(total_points=350, lifetime_points=350, level=3)
    client.force_login(user)
    resp = client.post("/rewards/?period=weekly", {"points": 300}, follow=True)
    assert resp.redirect_chain[-1][0] == "/rewards/?period=weekly"
    assert "Puntos canjeados exitosamente" in resp.content.decode()
    user.refresh_from_db()
    assert (user.total_points, user.conversion_credits) == (50, 3)
    resp = client.post("/rewards/", {"points": 150}, follow=True)
    assert "múltiplo de 100" in resp.content.decode()
    resp = client.post("/rewards/", {"points": 100}, follow=True)
    assert "suficientes puntos" in resp.content.decode()
    resp = client.post("/rewards/", {"points": "abc"})
    assert resp.status_code == 400
    assert UserReward.objects.filter(user=user).count() == 1


def test_page_login_pays_daily_points(client, make_user):
    from .conftest import PASSWORD

    user = make_user(email="pagina@example.com")
    client.post("/login/", {"email": "pagina@example.com", "password": PASSWORD})
    user.refresh_from_db()
    assert (user.total_points, user.current_streak) == (5, 1)
