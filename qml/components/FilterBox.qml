pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import Gatehouse

// A filter over one column of the request log: "All …" or one of the values the log has. The
// values are read again each time the list opens, so new keys and models show up.
AppComboBox {
    id: box

    required property ActivityModel source
    required property string column
    required property string allLabel
    property list<string> values: []
    property string selected: ""   // "" = all

    function refresh() {
        box.values = box.source.distinctValues(box.column);
        box.currentIndex = box.selected.length > 0 ? box.values.indexOf(box.selected) + 1 : 0;
    }
    function options(): list<string> {
        const all = [box.allLabel];
        for (const value of box.values)
            all.push(value);
        return all;
    }
    function reset() {
        box.selected = "";
        box.currentIndex = 0;
    }

    implicitWidth: 150
    model: box.options()
    onActivated: index => box.selected = index > 0 ? box.values[index - 1] : ""
    popup.onAboutToShow: box.refresh()
    Component.onCompleted: box.refresh()
}
