#include "telemetry/telemetry.h"
#include "core/keyhash.h"
#include "routing/registry.h"
#include "telemetry/telemetrylog.h"

Q_LOGGING_CATEGORY(lcTelemetry, "gatehouse.telemetry")

namespace gh {

ScrapeAccess scrapeAccess(const MetricsSettings &settings, QByteArrayView authorization)
{
    if (!settings.enabled())
        return ScrapeAccess::Off;
    if (authorization.size() <= 7 || authorization.first(7).toByteArray().toLower() != "bearer ")
        return ScrapeAccess::Unauthorized;
    const QByteArray token = authorization.sliced(7).toByteArray().trimmed();
    // Hashes are compared, so the time taken says nothing about the token.
    return !token.isEmpty() && hashSecret(QByteArrayView(token)) == settings.tokenHash ? ScrapeAccess::Allowed
                                                                                      : ScrapeAccess::Unauthorized;
}

Telemetry::Telemetry(const Registry *registry, QObject *parent)
    : QObject(parent)
    , m_exporter(new OtlpExporter(
          [registry](const QString &providerId) {
              const auto snapshot = registry->snapshot();
              const auto provider = snapshot ? snapshot->providers.value(providerId) : nullptr;
              return provider ? snapshot->vendorOf(provider->config) : QString();
          },
          this))
{
}

void Telemetry::record(const RequestRecord &record)
{
    m_metrics.record(record);
    m_exporter->enqueue(record);
}

void Telemetry::applySettings(const GatewaySettings &settings)
{
    m_exporter->setSettings(settings.otlp);
}

void Telemetry::fillLive(MetricsRegistry::Live &live) const
{
    if (!m_exporter->enabled())
        return;
    live.otlpExported = m_exporter->exported();
    live.otlpDropped = m_exporter->dropped();
    live.otlpFailed = m_exporter->failures();
}

} // namespace gh
