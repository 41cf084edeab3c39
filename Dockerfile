# Anclora Converter: web, worker and beat share this image.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=anclora.settings.production VAR_DIR=/data/var MEDIA_ROOT=/data/media

# LibreOffice for office fidelity (python3-uno: its warm listener), ffmpeg, fonts and the libraries WeasyPrint needs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui \
      libreoffice-impress-nogui python3-uno ffmpeg fonts-dejavu-core \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libcairo2 gettext \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 anclora
WORKDIR /app
COPY requirements/ requirements/
RUN pip install -r requirements/prod.txt
COPY . .
RUN SECRET_KEY=build STRIPE_WEBHOOK_SECRET=build python manage.py collectstatic --noinput \
 && mkdir -p /data && chown -R anclora /data
USER anclora
EXPOSE 8000
CMD ["gunicorn", "-c", "anclora/gunicorn_conf.py", "anclora.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "300"]
