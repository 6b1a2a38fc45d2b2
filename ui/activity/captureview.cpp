#include "captureview.h"
#include "capture/bodycapture.h"
#include "gateway/gateway.h"
#include <QCoreApplication>
#include <QDateTime>
#include <QLocale>
#include <QThread>

namespace gh::ui {

namespace {

QString span(const QColor &color, QStringView text)
{
    return QStringLiteral("<span style=\"color:%1\">%2</span>").arg(color.name(), text.toString().toHtmlEscaped());
}

// One JSON text indented by two spaces per level, its members in their order, colored. A text that
// is not JSON comes out escaped, with whatever tokens it has colored.
QString highlightJson(QStringView s, const CaptureView::Palette &p, bool indent)
{
    QString out;
    int depth = 0;
    auto newline = [&] {
        if (!indent)
            return;
        out += u'\n';
        out += QString(depth * 2, u' ');
    };
    qsizetype i = 0;
    const qsizetype n = s.size();
    while (i < n) {
        const QChar c = s[i];
        if (c == u'"') {
            qsizetype j = i + 1;
            while (j < n && s[j] != u'"')
                j += s[j] == u'\\' ? 2 : 1;
            j = qMin(j + 1, n);
            qsizetype k = j;
            while (k < n && s[k].isSpace())
                ++k;
            const bool isKey = k < n && s[k] == u':';
            out += span(isKey ? p.key : p.string, s.mid(i, j - i));
            i = j;
        } else if (c == u'{' || c == u'[') {
            out += c;
            // An empty object or array stays on its line.
            qsizetype k = i + 1;
            while (k < n && s[k].isSpace())
                ++k;
            if (k < n && (s[k] == u'}' || s[k] == u']')) {
                out += s[k];
                i = k + 1;
                continue;
            }
            ++depth;
            newline();
            ++i;
        } else if (c == u'}' || c == u']') {
            depth = qMax(0, depth - 1);
            newline();
            out += c;
            ++i;
        } else if (c == u',') {
            out += c;
            newline();
            ++i;
        } else if (c == u':') {
            out += indent ? QStringLiteral(": ") : QStringLiteral(":");
            ++i;
        } else if (c.isSpace()) {
            if (!indent)
                out += c;
            ++i;
        } else if (c == u'-' || c.isDigit()) {
            qsizetype j = i + 1;
            while (j < n
                && (s[j].isDigit() || s[j] == u'.' || s[j] == u'e' || s[j] == u'E' || s[j] == u'+' || s[j] == u'-'))
                ++j;
            out += span(p.number, s.mid(i, j - i));
            i = j;
        } else if (s.mid(i).startsWith(u"true") || s.mid(i).startsWith(u"null")) {
            out += span(p.literal, s.mid(i, 4));
            i += 4;
        } else if (s.mid(i).startsWith(u"false")) {
            out += span(p.literal, s.mid(i, 5));
            i += 5;
        } else {
            out += QString(c).toHtmlEscaped();
            ++i;
        }
    }
    return out;
}

} // namespace

CaptureView::CaptureView(QObject *parent)
    : QObject(parent)
{
    connect(this, &CaptureView::paletteChanged, this, &CaptureView::loaded);
}

void CaptureView::setBackend(Backend *backend)
{
    if (m_backend == backend)
        return;
    m_backend = backend;
    Q_EMIT backendChanged();
    load();
}

void CaptureView::setRequestId(const QString &id)
{
    if (m_requestId == id)
        return;
    m_requestId = id;
    Q_EMIT requestIdChanged();
    load();
}

void CaptureView::load()
{
    const quint64 generation = ++m_generation;
    m_available = false;
    m_request.clear();
    m_response.clear();
    m_note.clear();
    if (!m_backend || m_requestId.isEmpty()) {
        m_loading = false;
        Q_EMIT loaded();
        return;
    }
    m_loading = true;
    Q_EMIT loaded();
    const QString path = BodyCapture::pathIn(m_backend->gateway().dataDir());
    const QString id = m_requestId;
    QPointer<CaptureView> self(this);
    // Its own thread and connection: the window never waits for the disk.
    QThread *thread = QThread::create([self, path, id, generation] {
        std::optional<CapturedBodies> bodies = BodyCapture::read(path, id);
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, generation, bodies = std::move(bodies)] {
                if (!self || self->m_generation != generation)
                    return;
                self->m_loading = false;
                self->m_available = bodies.has_value();
                if (bodies) {
                    self->m_request = QString::fromUtf8(bodies->request);
                    self->m_response = QString::fromUtf8(bodies->response);
                    QStringList notes;
                    if (!bodies->note.isEmpty())
                        notes.append(bodies->note);
                    notes.append(tr("Kept until %1")
                                     .arg(QLocale().toString(
                                         QDateTime::fromMSecsSinceEpoch(bodies->expiresAtMs), QLocale::ShortFormat)));
                    self->m_note = notes.join(QStringLiteral(" · "));
                }
                Q_EMIT self->loaded();
            },
            Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

QString CaptureView::requestHtml() const
{
    return highlight(m_request.toUtf8(), {m_keyColor, m_stringColor, m_numberColor, m_literalColor, m_mutedColor});
}

QString CaptureView::responseHtml() const
{
    return highlight(m_response.toUtf8(), {m_keyColor, m_stringColor, m_numberColor, m_literalColor, m_mutedColor});
}

QString CaptureView::highlight(const QByteArray &text, const Palette &palette)
{
    if (text.isEmpty())
        return {};
    const bool cut = text.size() > kMaxShownBytes;
    const QString s = QString::fromUtf8(cut ? text.first(kMaxShownBytes) : text);
    QString html;
    const QStringView trimmed = QStringView(s).trimmed();
    if (trimmed.startsWith(u'{') || trimmed.startsWith(u'[')) {
        html = highlightJson(trimmed, palette, true);
    } else {
        // An SSE stream: "event:" and comment lines muted, each "data:" line's JSON colored in place.
        const QStringList lines = s.split(u'\n');
        QStringList out;
        for (const QString &line : lines) {
            if (line.startsWith(QLatin1String("data:"))) {
                out.append(span(palette.muted, u"data:") + highlightJson(QStringView(line).mid(5), palette, false));
            } else if (line.isEmpty()) {
                continue; // the blank line between events
            } else {
                out.append(span(palette.muted, line));
            }
        }
        html = out.join(u'\n');
    }
    if (cut)
        html += u'\n'
            + span(palette.muted, tr("… %1 more bytes (Copy gives the whole body)").arg(text.size() - kMaxShownBytes));
    return QStringLiteral("<pre style=\"white-space: pre-wrap; margin: 0\">") + html + QStringLiteral("</pre>");
}

} // namespace gh::ui
