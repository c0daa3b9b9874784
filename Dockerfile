# warung as a container: built with the toolchain the workspace names, run as a non-root user on
# a small glibc image with CA certificates. Listens on 0.0.0.0 inside the container.
FROM rust:1.94-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin warung

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/warung --create-home warung
COPY --from=build /src/target/release/warung /usr/local/bin/warung
USER warung
WORKDIR /var/lib/warung
ENV WARUNG_HTTP__BIND=0.0.0.0:8080 \
    WARUNG_HTTP__OPS_BIND=0.0.0.0:9090
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["warung"]
CMD ["serve"]
