#pragma once
#include "pricing/pricecatalog.h"
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

namespace gh {

// Refreshes the price catalog at run time: fetches genai-prices' data (HTTPS, or a local file),
// validates it (size and time limits, the schema PriceCatalog::fromJson reads), and swaps it in
// atomically: written to a temporary file in the data folder and renamed over
// genai-prices.json, the copy it replaces kept as genai-prices.previous.json. A broken download
// changes nothing.
class CatalogUpdater : public QObject
{
    Q_OBJECT
public:
    struct Limits {
        qint64 maxBytes = 32 * 1024 * 1024; // the real data is about 0.5 MB
        int timeoutMs = 60'000;             // the whole transfer
    };
    struct Result {
        bool ok = false;
        QString message; // what happened, for a person
        CatalogDiff diff;
        std::shared_ptr<const PriceCatalog> catalog; // the new catalog when ok
    };

    explicit CatalogUpdater(const QString &dataDir, QObject *parent = nullptr);
    ~CatalogUpdater() override;

    // The default source: genai-prices' data file in its public repository.
    [[nodiscard]] static QUrl defaultSource();
    [[nodiscard]] static QString storedPath(const QString &dataDir);
    // The catalog to use at start: the stored refresh when it is valid, else the bundled one.
    [[nodiscard]] static std::shared_ptr<const PriceCatalog> loadStored(const QString &dataDir, QString *warning = nullptr);
    // The store's settings key that turns network refreshes off ("off") for offline use.
    static constexpr const char *kRefreshSettingKey = "catalog_refresh";

    void setLimits(const Limits &limits) { m_limits = limits; }
    [[nodiscard]] bool isRunning() const { return m_reply != nullptr; }
    // Starts a refresh from `source` (https://..., http:// on loopback only, file:// or a path);
    // finished() follows exactly once. On success the new catalog is also made current
    // (PriceCatalog::setCurrent).
    void update(const QUrl &source);

    // Validates and installs a downloaded document; public for the command line and tests.
    [[nodiscard]] Result install(const QByteArray &data, const QString &source);

Q_SIGNALS:
    void finished(const gh::CatalogUpdater::Result &result);

private:
    void finish(Result result);
    void onReadyRead();
    void onFinished();

    QString m_dataDir;
    Limits m_limits;
    QNetworkAccessManager *m_nam = nullptr;
    QNetworkReply *m_reply = nullptr; // the transfer running, owned by m_nam
    QByteArray m_buffer;
    QString m_source;
    QString m_abortReason;
    QTimer m_deadline;
};

} // namespace gh

Q_DECLARE_METATYPE(gh::CatalogUpdater::Result)
