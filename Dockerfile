# Homeroom server image: one process per container; scale by running more containers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOMEROOM_ENV=production \
    HOMEROOM_DATA_DIR=/data

# Apertium gives real English<->Spanish/Catalan/Galician translation with no model files.
# FFmpeg (with ffprobe) probes and transcodes video and audio recordings.
# The Noto fonts are embedded in printed invite letters and login cards, every script included.
RUN apt-get update \
    && apt-get install -y --no-install-recommends apertium apertium-eng-spa apertium-eng-cat apertium-en-gl \
        ffmpeg fonts-noto-core fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY web ./web
COPY tools/catalogs.py ./tools/catalogs.py
RUN pip install ".[translate]" && pip install --no-deps "argostranslate==1.11.0"
# The interface catalogs compiled at build time (.mo for the server, hashed JSON for the client):
# the running container never writes them.
RUN python tools/catalogs.py compile

# Argos packages baked into the image: `docker build --build-arg ARGOS_LANGUAGES="ur pl bn" .` fetches
# en<->LANG for each language from the index (HOMEROOM_ARGOS_INDEX_URL, argos's public one unless given
# as a build argument too) and fails the build if one cannot be had. They live outside the /data volume,
# read-only, so a rebuilt image brings its packages to an existing volume; packages installed at run time
# (fetch, upload, install) go to the volume and win on a newer version. The fetch runs in a throwaway
# data folder (its development secret is deleted with it). Empty by default: no download at all.
ARG ARGOS_LANGUAGES=""
ARG HOMEROOM_ARGOS_INDEX_URL=""
ENV HOMEROOM_ARGOS_BUNDLED_DIR=/opt/homeroom/argos-packages
RUN mkdir -p "$HOMEROOM_ARGOS_BUNDLED_DIR" \
    && if [ -n "$ARGOS_LANGUAGES" ]; then \
        HOMEROOM_ENV=development HOMEROOM_DATA_DIR=/tmp/argos-build HOMEROOM_ARGOS_BUNDLED_DIR= \
            python -m server translation fetch $ARGOS_LANGUAGES \
        && mv /tmp/argos-build/translation/packages/* "$HOMEROOM_ARGOS_BUNDLED_DIR"/ \
        && rm -rf /tmp/argos-build; \
    fi

RUN useradd --create-home --uid 10001 homeroom \
    && mkdir -p /data/media /data/translation \
    && chown -R homeroom /data
USER homeroom
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"

# SIGTERM: uvicorn stops accepting, closes websockets with 1012 so clients reconnect
# to another replica and recover with `since`, finishes in-flight requests, exits.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "server", "serve", "--host", "0.0.0.0", "--port", "8000"]
