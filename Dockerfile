# pgdeck web image: gunicorn + whitenoise, PostgreSQL 17 client tools for backups, no dev dependencies.
FROM python:3.11-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    BACKUP_DIR=/backups

# Debian trixie's PostgreSQL is 17: pg_dump/pg_restore/psql of major version 17 for the postgres:17 server.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-17 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 pgdeck && mkdir -p /app /backups && chown pgdeck:pgdeck /app /backups
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=pgdeck:pgdeck . .
USER pgdeck
# collectstatic needs settings but no database or secrets of the real deployment.
RUN DJANGO_SECRET_KEY=build-only API_KEY_PEPPER=build-only DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgresql://build@localhost/build python manage.py collectstatic --noinput -v 0

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
