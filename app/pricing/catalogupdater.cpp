#include "pricing/catalogupdater.h"

#include "core/logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSaveFile>

namespace gh {

namespace {

bool isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

} // namespace

CatalogUpdater::CatalogUpdater(const QString &dataDir, QObject *parent)
    : QObject(parent)
    , m_dataDir(dataDir)
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        if (m_reply) {
            m_abortReason = QStringLiteral("no complete answer within %1 s").arg(m_limits.timeoutMs / 1000.0);
            m_reply->abort();
        }
    });
}

CatalogUpdater::~CatalogUpdater()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
}

QUrl CatalogUpdater::defaultSource()
{
    // genai-prices' REMOTE_DATA_JSON_URL (the package exports it; see scripts/prices).
    return QUrl(QStringLiteral("https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json"));
}

QString CatalogUpdater::storedPath(const QString &dataDir)
{
    return QDir(dataDir).filePath(QStringLiteral("genai-prices.json"));
}

std::shared_ptr<const PriceCatalog> CatalogUpdater::loadStored(const QString &dataDir, QString *warning)
{
    const QString path = storedPath(dataDir);
    QFile file(path);
    if (!dataDir.isEmpty() && file.exists()) {
        QString error;
        if (file.open(QIODevice::ReadOnly)) {
            auto catalog = std::make_shared<PriceCatalog>(PriceCatalog::fromJson(file.readAll(), &error));
            if (error.isEmpty() && !catalog->isEmpty()) {
                qCInfo(lcPricing).noquote() << "price catalog:" << path << catalog->source() << catalog->takenOn().toString(Qt::ISODate);
                return catalog;
            }
        } else {
            error = file.errorString();
        }
        const QString message = QStringLiteral("the refreshed price catalog %1 cannot be used (%2); using the bundled one").arg(path, error);
        qCWarning(lcPricing).noquote() << message;
        if (warning)
            *warning = message;
    }
    return std::shared_ptr<const PriceCatalog>(&PriceCatalog::bundled(), [](const PriceCatalog *) {});
}

void CatalogUpdater::update(const QUrl &source)
{
    if (m_reply) {
        finish({false, QStringLiteral("a refresh is already running"), {}, nullptr});
        return;
    }
    m_source = source.toString(QUrl::RemoveUserInfo);
    m_buffer.clear();
    m_abortReason.clear();
    if (source.isLocalFile() || source.scheme().isEmpty()) {
        const QString path = source.isLocalFile() ? source.toLocalFile() : source.toString();
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            finish({false, QStringLiteral("cannot read %1: %2; nothing changed").arg(path, file.errorString()), {}, nullptr});
            return;
        }
        if (file.size() > m_limits.maxBytes) {
            finish({false, QStringLiteral("%1 is larger than %2 bytes; nothing changed").arg(path).arg(m_limits.maxBytes), {}, nullptr});
            return;
        }
        finish(install(file.read(m_limits.maxBytes + 1), QFileInfo(path).absoluteFilePath()));
        return;
    }
    // Prices decide what is charged: fetched over TLS, or from this machine (tests, mirrors).
    if (source.scheme() != u"https" && !(source.scheme() == u"http" && isLoopbackHost(source.host()))) {
        finish({false, QStringLiteral("refusing %1: the catalog is fetched over https (http only from this machine)").arg(m_source), {}, nullptr});
        return;
    }
    if (!m_nam)
        m_nam = new QNetworkAccessManager(this);
    QNetworkRequest request(source);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setMaximumRedirectsAllowed(5);
    request.setTransferTimeout(m_limits.timeoutMs);
    m_reply = m_nam->get(request);
    connect(m_reply, &QNetworkReply::readyRead, this, &CatalogUpdater::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &CatalogUpdater::onFinished);
    m_deadline.start(m_limits.timeoutMs);
}

void CatalogUpdater::onReadyRead()
{
    if (!m_reply)
        return;
    const QVariant length = m_reply->header(QNetworkRequest::ContentLengthHeader);
    if (length.isValid() && length.toLongLong() > m_limits.maxBytes) {
        m_abortReason = QStringLiteral("the answer announces %1 bytes, more than the limit of %2").arg(length.toLongLong()).arg(m_limits.maxBytes);
        m_reply->abort();
        return;
    }
    m_buffer += m_reply->readAll();
    if (m_buffer.size() > m_limits.maxBytes) {
        m_abortReason = QStringLiteral("the answer is larger than the limit of %1 bytes").arg(m_limits.maxBytes);
        m_reply->abort();
    }
}

void CatalogUpdater::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    m_deadline.stop();
    if (m_abortReason.isEmpty())
        onReadyRead();
    m_reply = nullptr;
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (!m_abortReason.isEmpty()) {
        finish({false, QStringLiteral("download from %1 failed: %2; nothing changed").arg(m_source, m_abortReason), {}, nullptr});
        return;
    }
    if (reply->error() != QNetworkReply::NoError) {
        finish({false, QStringLiteral("download from %1 failed: %2; nothing changed").arg(m_source, reply->errorString()), {}, nullptr});
        return;
    }
    if (status != 200) {
        finish({false, QStringLiteral("download from %1 failed: HTTP status %2; nothing changed").arg(m_source).arg(status), {}, nullptr});
        return;
    }
    finish(install(m_buffer, m_source));
}

CatalogUpdater::Result CatalogUpdater::install(const QByteArray &data, const QString &source)
{
    Result result;
    if (data.size() > m_limits.maxBytes) {
        result.message = QStringLiteral("%1: larger than %2 bytes; nothing changed").arg(source).arg(m_limits.maxBytes);
        return result;
    }
    QString error;
    PriceCatalog parsed = PriceCatalog::fromJson(data, &error);
    if (!error.isEmpty() || parsed.isEmpty() || parsed.size() == 0) {
        result.message = QStringLiteral("%1 is not a valid price catalog (%2); nothing changed")
                             .arg(source, error.isEmpty() ? QStringLiteral("no models") : error);
        return result;
    }
    const QDate today = QDateTime::currentDateTimeUtc().date();
    parsed.setOrigin(source, parsed.takenOn().isValid() && !data.trimmed().startsWith('[') ? parsed.takenOn() : today);
    const auto previous = PriceCatalog::current();
    result.diff = previous->diff(parsed);

    // The stored form: the providers as fetched, with where and when they came from.
    QJsonDocument doc = QJsonDocument::fromJson(data);
    QJsonObject wrapped;
    if (doc.isArray()) {
        wrapped.insert(QStringLiteral("providers"), doc.array());
    } else {
        wrapped = doc.object();
    }
    wrapped.insert(QStringLiteral("source"), parsed.source());
    wrapped.insert(QStringLiteral("taken_on"), parsed.takenOn().toString(Qt::ISODate));
    wrapped.insert(QStringLiteral("fetched_at"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate));

    if (!QDir().mkpath(m_dataDir)) {
        result.message = QStringLiteral("cannot create %1; nothing changed").arg(m_dataDir);
        return result;
    }
    const QString path = storedPath(m_dataDir);
    const QString previousPath = QDir(m_dataDir).filePath(QStringLiteral("genai-prices.previous.json"));
    if (QFile::exists(path)) {
        // The last good copy, kept so a bad refresh can be undone by hand.
        QFile::remove(previousPath + QStringLiteral(".tmp"));
        if (QFile::copy(path, previousPath + QStringLiteral(".tmp"))) {
            QFile::remove(previousPath);
            QFile::rename(previousPath + QStringLiteral(".tmp"), previousPath);
        }
    }
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(QJsonDocument(wrapped).toJson(QJsonDocument::Compact)) < 0 || !out.commit()) {
        result.message = QStringLiteral("cannot write %1 (%2); nothing changed").arg(path, out.errorString());
        return result;
    }
    auto catalog = std::make_shared<const PriceCatalog>(std::move(parsed));
    PriceCatalog::setCurrent(catalog);
    result.ok = true;
    result.catalog = catalog;
    result.message = QStringLiteral("price catalog updated from %1: %2 models (%3)").arg(source).arg(catalog->size()).arg(result.diff.summary());
    return result;
}

void CatalogUpdater::finish(Result result)
{
    if (result.ok)
        qCInfo(lcPricing).noquote() << result.message;
    else
        qCWarning(lcPricing).noquote() << result.message;
    Q_EMIT finished(result);
}

} // namespace gh
