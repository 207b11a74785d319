# syntax=docker/dockerfile:1

# ---- build: a static binary --------------------------------------------------
FROM golang:1.26 AS build
WORKDIR /src

# Dependencies first, so editing code does not re-download modules.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/m9m ./cmd/m9m

# ---- run: alpine, non-root ---------------------------------------------------
FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
 && addgroup -S -g 10001 m9m \
 && adduser -S -D -H -u 10001 -G m9m -s /sbin/nologin m9m
COPY --from=build /out/m9m /m9m

# Numeric, so the runtime can enforce runAsNonRoot without resolving names.
USER 10001:10001
EXPOSE 8080
# Readiness on the configured port and TLS (same configuration as serve).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/m9m", "healthcheck"]
ENTRYPOINT ["/m9m"]
CMD ["serve"]
