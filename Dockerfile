# Alliance: one image for every process (api, worker, beat); the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Unprivileged user. /data is created here and owned by it, so a fresh named volume
# mounted at /data starts with that ownership and the app can write its signing key.
RUN useradd --create-home --uid 10001 --user-group alliance \
    && mkdir -p /data \
    && chown alliance:alliance /data

WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .

ENV ALLIANCE_DATA_DIR=/data \
    ALLIANCE_HOST=0.0.0.0 \
    ALLIANCE_PORT=8000

USER alliance
EXPOSE 8000
CMD ["alliance", "serve"]
