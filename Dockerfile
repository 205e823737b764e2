# analogwatch service image: the same install command as the README's quick start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ANALOGWATCH_DATABASE_URL=sqlite:////data/analogwatch.db

RUN useradd --create-home --uid 10001 analogwatch \
    && mkdir /data && chown analogwatch /data

WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
COPY schedules ./schedules
COPY migrations ./migrations
RUN python -m pip install . && rm -rf /src

USER analogwatch
WORKDIR /home/analogwatch
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

CMD ["analogwatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
