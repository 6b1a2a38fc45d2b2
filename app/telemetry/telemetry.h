#pragma once
#include "config/config.h"
#include "telemetry/metricsregistry.h"
#include "telemetry/otlpexporter.h"
#include <QObject>

namespace gh {

class Registry;

// Who may scrape GET /metrics: nobody while settings.metrics has no token (the endpoint is off and
// answers 404), else only a request with "Authorization: Bearer <token>".
enum class ScrapeAccess { Off, Unauthorized, Allowed };
[[nodiscard]] ScrapeAccess scrapeAccess(const MetricsSettings &settings, QByteArrayView authorization);
// The content type of the Prometheus text exposition format.
inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// What leaves the gateway for the user's own monitoring: the Prometheus counters behind GET /metrics
// and the OTLP span export. The gateway gives it every finished request (record(), from any thread)
// and its settings; it never holds the request path longer than a short lock.
class Telemetry : public QObject
{
    Q_OBJECT
public:
    // `registry` names each provider's catalog vendor for gen_ai.provider.name; it must outlive this.
    explicit Telemetry(const Registry *registry, QObject *parent = nullptr);

    // Any thread.
    void record(const RequestRecord &record);
    // On this object's thread.
    void applySettings(const GatewaySettings &settings);

    [[nodiscard]] const MetricsRegistry &metrics() const { return m_metrics; }
    [[nodiscard]] OtlpExporter &exporter() { return *m_exporter; }
    // The exporter's counters for the exposition (-1 when the export is off).
    void fillLive(MetricsRegistry::Live &live) const;

private:
    MetricsRegistry m_metrics;
    OtlpExporter *m_exporter;
};

} // namespace gh
