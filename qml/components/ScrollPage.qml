pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts

// The scaffold of a page that scrolls as a whole: one centred column, at most maxContentWidth wide
// and Theme.space6 from the sides, Theme.space5 below the top. The page's items go into the column
// (a ColumnLayout: Layout.fillWidth etc. apply); bottomMargin is the gap after the last one.
ScrollView {
    id: scroll

    property real maxContentWidth: 1120
    property real contentSpacing: Theme.space4
    property real bottomMargin: Theme.space5
    default property alias content: column.data

    contentWidth: availableWidth
    // The column's own height plus the gaps above and below it (the gap below is contentSpacing
    // and bottomMargin, as if a spacer of bottomMargin were the last item).
    contentHeight: column.y + column.implicitHeight + column.spacing + scroll.bottomMargin
    clip: true

    ColumnLayout {
        id: column
        y: Theme.space5
        width: Math.min(scroll.availableWidth - 2 * Theme.space6, scroll.maxContentWidth)
        x: (scroll.availableWidth - width) / 2
        spacing: scroll.contentSpacing
    }
}
