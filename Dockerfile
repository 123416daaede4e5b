# The bot in HTTP mode (`serve`), built from requirements.lock so every deploy runs the same versions.
# docker build -t cancel-order-bot . && docker run -p 3000:3000 --env-file .env cancel-order-bot

# Build stage: the pinned dependencies (hash-checked) and the bot's wheel, in a virtualenv copied below.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.lock /src/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --only-binary=:all: -r /src/requirements.lock
COPY pyproject.toml README.md /src/
COPY bot /src/bot
COPY cancel_order_bot /src/cancel_order_bot
RUN /opt/venv/bin/pip install --no-deps /src

# Runtime stage: no compiler, no sources, not root.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /home/bot bot
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 LOG_FORMAT=json
USER bot
WORKDIR /home/bot
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["cancel-order-bot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
