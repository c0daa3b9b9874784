# warung as a container: built with the toolchain the workspace names, run as a non-root user on
# a small glibc image with CA certificates (for TLS to Postgres, Redis and the providers) and
# the Postgres client tools (for `warung backup` and `restore` against Postgres). Listens on
# 0.0.0.0 inside the container: 8080 public (only /webhooks/* need to face the internet), 9090
# for operators (/ops, /metrics). The SQLite default keeps its file in the /var/lib/warung volume.
FROM rust:1.94-bookworm AS build
WORKDIR /src
COPY . .
ARG WARUNG_BUILD_COMMIT=unknown
ENV WARUNG_BUILD_COMMIT=${WARUNG_BUILD_COMMIT}
RUN cargo build --release --locked --bin warung

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/warung --create-home warung
COPY --from=build /src/target/release/warung /usr/local/bin/warung
COPY LICENSE warung.toml.example /usr/share/doc/warung/
USER warung
WORKDIR /var/lib/warung
VOLUME /var/lib/warung
ENV WARUNG_HTTP__BIND=0.0.0.0:8080 \
    WARUNG_HTTP__OPS_BIND=0.0.0.0:9090 \
    WARUNG_DATABASE__URL=sqlite:///var/lib/warung/warung.db
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD curl -fsS http://127.0.0.1:8080/health || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["warung"]
CMD ["serve"]
