/*
 * The live layer of the dispatch map: technicians, visits and the selected route.
 *
 * folium writes the page (the Leaflet map, its tile layer and scale) and then calls
 * dispatchMap.attach(). From then on the page is never reloaded: the application sends
 * dispatchMap.apply(update) with the markers that were added, changed or removed (see
 * dispatch_app/services/map_positions.py for the records), and dispatchMap.select()
 * when the board's selection changes. A click on a marker goes back through the bridge:
 * Qt's QWebChannel in the main window, pywebview's js_api in the wall-display window.
 *
 * Bad data never breaks the page: a record without a usable position is skipped.
 */
(function () {
  "use strict";

  var map = null;
  var tiles = null;
  var options = { labels: {}, style: {} };
  var technicians = {}; // id -> {record, marker}
  var visits = {}; // id -> {record, marker}
  var technicianLayer = null;
  var visitLayer = null;
  var routeLayer = null;
  var tileNote = null;
  var placeNote = null;
  var selected = { technician: 0, visit: 0 };
  var bridge = null; // QWebChannel object, once connected
  var tileState = { loaded: 0, failed: 0 };
  var clicks = []; // the last clicks, newest last (tests and diagnostics read them)
  var applied = 0; // updates applied since the page loaded
  var lastApplyMs = 0; // how long the last one took in the page

  var TRANSPARENT =
    "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

  function label(key, fallback) {
    var text = options.labels[key];
    return typeof text === "string" ? text : fallback;
  }

  function escapeHtml(text) {
    return String(text === undefined || text === null ? "" : text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  function placeOf(record) {
    var lat = record && record.lat;
    var lon = record && record.lon;
    if (typeof lat !== "number" || typeof lon !== "number") return null;
    if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) return null; // NaN too
    return [lat, lon];
  }

  function statusColour(status) {
    var colours = options.style.status || {};
    return colours[status] || colours.scheduled || "#4a84d4";
  }

  function statusFill(status) {
    var fills = options.style.fill || {};
    return fills[status] || "#ffffff";
  }

  // -- the bridge back to the application ----------------------------------------------
  function connectBridge() {
    if (window.qt && window.qt.webChannelTransport && window.QWebChannel) {
      new QWebChannel(window.qt.webChannelTransport, function (channel) {
        bridge = channel.objects.mapBridge || null;
        if (bridge && bridge.pageReady) bridge.pageReady();
      });
    }
  }

  function tell(kind, id) {
    clicks.push({ kind: kind, id: id });
    if (clicks.length > 20) clicks.shift();
    if (bridge && bridge.markerClicked) {
      bridge.markerClicked(kind, id);
    } else if (window.pywebview && window.pywebview.api && window.pywebview.api.marker_clicked) {
      window.pywebview.api.marker_clicked(kind, id);
    }
  }

  // -- tiles ---------------------------------------------------------------------------
  function watchTiles(layer) {
    layer.options.errorTileUrl = TRANSPARENT; // no broken-image icons on a failed tile
    layer.on("tileerror", function () {
      tileState.failed += 1;
      showTileNote();
    });
    layer.on("tileload", function (event) {
      // Leaflet reports the stand-in for a failed tile as loaded too: that is no tile.
      if (event.tile && event.tile.getAttribute("src") === TRANSPARENT) return;
      tileState.loaded += 1;
      showTileNote();
    });
    watchForStall();
  }

  // A tile server that never answers (a firewall that drops packets) raises no error for
  // a long time: after STALL_MS without a single tile, say so anyway.
  var STALL_MS = 10000;
  var stallTimer = null;

  function watchForStall() {
    if (stallTimer !== null) clearTimeout(stallTimer);
    stallTimer = setTimeout(function () {
      stallTimer = null;
      if (tileState.loaded === 0) {
        tileState.failed += 1;
        showTileNote();
      }
    }, STALL_MS);
  }

  function showTileNote() {
    // Tiles are "unavailable" while none has loaded since the last change of source: a
    // single missing tile at the edge of a tile server's coverage is not worth a note.
    var unavailable = tileState.failed > 0 && tileState.loaded === 0;
    tileNote.style.display = unavailable ? "block" : "none";
    document.body.classList.toggle("no-tiles", unavailable);
  }

  function setTiles(url, attribution) {
    if (!tiles || !url) return;
    tileState = { loaded: 0, failed: 0 };
    if (attribution !== undefined && map.attributionControl) {
      map.attributionControl.removeAttribution(tiles.options.attribution);
      tiles.options.attribution = attribution;
      map.attributionControl.addAttribution(attribution);
    }
    tiles.setUrl(url);
    showTileNote();
    watchForStall();
  }

  // -- technicians ---------------------------------------------------------------------
  function technicianIcon(record) {
    var isSelected = record.id === selected.technician;
    return L.divIcon({
      className: "dm-technician" + (isSelected ? " dm-selected" : ""),
      html:
        '<div class="dm-pin" style="background:' +
        escapeHtml(record.colour) +
        '">' +
        escapeHtml(record.initials) +
        "</div>",
      iconSize: [28, 28],
      iconAnchor: [14, 14],
      popupAnchor: [0, -14],
    });
  }

  // The words the board's name column shows (domain/statuses.py makes them for both).
  function technicianStatusText(record) {
    return record.statusText;
  }

  function technicianPopup(id) {
    var entry = technicians[id];
    if (!entry) return "";
    var record = entry.record;
    var html =
      '<div class="dm-popup"><b>' +
      escapeHtml(record.name) +
      "</b>" +
      '<div class="dm-muted">' +
      escapeHtml(label("trade_" + record.trade, record.trade)) +
      " · " +
      escapeHtml(label("source_" + record.source, record.source)) +
      "</div>" +
      "<div>" +
      escapeHtml(label("skills", "Skills")) +
      ": " +
      escapeHtml(record.skills.length ? record.skills.join(", ") : "—") +
      "</div>" +
      "<div>" +
      escapeHtml(label("status", "Status")) +
      ": " +
      escapeHtml(technicianStatusText(record)) +
      "</div>";
    if (record.route.length) {
      html += '<div class="dm-route-title">' + escapeHtml(label("route", "Today's route")) + "</div><ol>";
      record.route.forEach(function (stop) {
        var visit = visits[stop[0]];
        if (!visit) return;
        var km = stop[1];
        var minutes = stop[2];
        var drive =
          km === null
            ? ""
            : ' <span class="dm-muted">' +
              escapeHtml(label("drive", "{km} km, {min} min").replace("{km}", km).replace("{min}", minutes)) +
              "</span>";
        html +=
          "<li>" +
          escapeHtml(visit.record.time) +
          " " +
          escapeHtml(visit.record.number) +
          " · " +
          escapeHtml(visit.record.job) +
          " · " +
          escapeHtml(visit.record.city) +
          drive +
          "</li>";
      });
      html += "</ol>";
    } else {
      html += '<div class="dm-muted">' + escapeHtml(label("no_route", "No visits today")) + "</div>";
    }
    return html + "</div>";
  }

  function upsertTechnician(record) {
    var place = placeOf(record);
    var entry = technicians[record.id];
    if (!place) {
      if (entry) removeTechnician(record.id);
      return;
    }
    if (entry) {
      var moved = entry.record.lat !== record.lat || entry.record.lon !== record.lon;
      var looks =
        entry.record.colour !== record.colour || entry.record.initials !== record.initials;
      entry.record = record;
      if (moved) entry.marker.setLatLng(place);
      if (looks) entry.marker.setIcon(technicianIcon(record));
      entry.marker.options.title = record.name;
      return;
    }
    var marker = L.marker(place, {
      icon: technicianIcon(record),
      title: record.name,
      riseOnHover: true,
      zIndexOffset: 1000,
    });
    marker.bindPopup(function () {
      return technicianPopup(record.id);
    });
    marker.on("click", function () {
      selectTechnician(record.id, false);
      tell("technician", record.id);
    });
    technicians[record.id] = { record: record, marker: marker };
    marker.addTo(technicianLayer);
  }

  function removeTechnician(id) {
    var entry = technicians[id];
    if (!entry) return;
    technicianLayer.removeLayer(entry.marker);
    delete technicians[id];
  }

  // -- visits --------------------------------------------------------------------------
  function emergencyIcon(record) {
    var isSelected = record.id === selected.visit;
    return L.divIcon({
      className: "dm-emergency" + (isSelected ? " dm-selected" : ""),
      html:
        '<svg width="24" height="22" viewBox="0 0 24 22"><path d="M12 1.5 L22.5 20.5 L1.5 20.5 Z" fill="' +
        escapeHtml(options.style.emergency || "#d62828") +
        '" stroke="' +
        (isSelected ? escapeHtml(options.style.selection || "#1769e0") : "#ffffff") +
        '" stroke-width="' +
        (isSelected ? 3 : 1.5) +
        '"/><text x="12" y="18" text-anchor="middle" font-size="13" font-weight="bold" fill="#ffffff">!</text></svg>',
      iconSize: [24, 22],
      iconAnchor: [12, 14],
      popupAnchor: [0, -12],
    });
  }

  function visitStyle(record) {
    var isSelected = record.id === selected.visit;
    var style = options.style;
    return {
      radius: isSelected ? 10 : record.waiting ? 6 : 7,
      color: isSelected ? style.selection || "#1769e0" : statusColour(record.status),
      weight: isSelected ? 4 : 2,
      fillColor: record.waiting ? "#ffffff" : statusFill(record.status),
      fillOpacity: 0.95,
      dashArray: record.approx ? "3 3" : null,
      className: "dm-visit dm-visit-" + record.id,
    };
  }

  function visitPopup(id) {
    var entry = visits[id];
    if (!entry) return "";
    var record = entry.record;
    var crew = record.techs
      .map(function (techId) {
        var tech = technicians[techId];
        return tech ? tech.record.name : "";
      })
      .filter(Boolean)
      .join(", ");
    return (
      '<div class="dm-popup"><b>' +
      escapeHtml(record.number) +
      "</b> · " +
      escapeHtml(label("priority_" + record.priority, record.priority)) +
      "<div>" +
      escapeHtml(record.job) +
      "</div><div>" +
      escapeHtml(record.customer) +
      " · " +
      escapeHtml(record.city) +
      (record.approx ? ' <span class="dm-muted">(' + escapeHtml(label("approximate", "ZIP area")) + ")</span>" : "") +
      "</div><div>" +
      escapeHtml(label("visit_status_" + record.status, record.status)) +
      (record.time ? " · " + escapeHtml(record.time) : "") +
      "</div><div>" +
      escapeHtml(record.waiting ? label("unassigned", "Unassigned") : crew) +
      "</div></div>"
    );
  }

  function makeVisitMarker(record, place) {
    var marker = record.emergency
      ? L.marker(place, { icon: emergencyIcon(record), zIndexOffset: 500, title: record.number })
      : L.circleMarker(place, visitStyle(record));
    marker.bindPopup(function () {
      return visitPopup(record.id);
    });
    marker.on("click", function () {
      selectVisit(record.id, false);
      tell("visit", record.id);
    });
    return marker;
  }

  function upsertVisit(record) {
    var place = placeOf(record);
    var entry = visits[record.id];
    if (!place) {
      if (entry) removeVisit(record.id);
      return;
    }
    if (entry && entry.record.emergency === record.emergency) {
      var moved = entry.record.lat !== record.lat || entry.record.lon !== record.lon;
      entry.record = record;
      if (moved) entry.marker.setLatLng(place);
      if (record.emergency) entry.marker.setIcon(emergencyIcon(record));
      else entry.marker.setStyle(visitStyle(record));
      return;
    }
    if (entry) removeVisit(record.id); // an emergency now, or no longer: another shape
    var marker = makeVisitMarker(record, place);
    visits[record.id] = { record: record, marker: marker };
    marker.addTo(visitLayer);
  }

  function removeVisit(id) {
    var entry = visits[id];
    if (!entry) return;
    visitLayer.removeLayer(entry.marker);
    delete visits[id];
  }

  function restyleVisit(id) {
    var entry = visits[id];
    if (!entry) return;
    if (entry.record.emergency) entry.marker.setIcon(emergencyIcon(entry.record));
    else {
      entry.marker.setStyle(visitStyle(entry.record));
      if (id === selected.visit) entry.marker.bringToFront();
    }
  }

  // -- the selected technician's route -------------------------------------------------
  function drawRoute() {
    routeLayer.clearLayers();
    var entry = technicians[selected.technician];
    if (!entry) return;
    var record = entry.record;
    var points = [];
    var home = record.home && placeOf({ lat: record.home[0], lon: record.home[1] });
    if (home) points.push(home);
    record.route.forEach(function (stop, index) {
      var visit = visits[stop[0]];
      var place = visit && placeOf(visit.record);
      if (!place) return;
      points.push(place);
      L.marker(place, {
        icon: L.divIcon({
          className: "dm-stop",
          html: "<div>" + (index + 1) + "</div>",
          iconSize: [16, 16],
          iconAnchor: [-4, 20],
        }),
        interactive: false,
        keyboard: false,
      }).addTo(routeLayer);
    });
    if (points.length > 1) {
      L.polyline(points, {
        color: record.colour,
        weight: 4,
        opacity: 0.85,
        dashArray: "8 6",
        interactive: false,
        className: "dm-route",
      }).addTo(routeLayer);
    }
  }

  // -- selection -----------------------------------------------------------------------
  function selectTechnician(id, centre) {
    var previous = selected.technician;
    selected.technician = id || 0;
    [previous, selected.technician].forEach(function (techId) {
      var entry = technicians[techId];
      if (entry) entry.marker.setIcon(technicianIcon(entry.record));
    });
    drawRoute();
    var entry = technicians[selected.technician];
    if (centre && entry) map.panTo(entry.marker.getLatLng());
  }

  function selectVisit(id, centre) {
    var previous = selected.visit;
    selected.visit = id || 0;
    restyleVisit(previous);
    restyleVisit(selected.visit);
    var entry = visits[selected.visit];
    if (centre && entry) map.panTo(entry.marker.getLatLng());
  }

  // Until the user pans or zooms, the view follows the day: it fits every marker on the
  // first load, on a new day and whenever the map changes size (a dock being resized).
  var userMoved = false;
  var fitting = false;

  function fitAll() {
    if (!map) return;
    var bounds = L.latLngBounds([]);
    [technicians, visits].forEach(function (entries) {
      Object.keys(entries).forEach(function (id) {
        bounds.extend(entries[id].marker.getLatLng());
      });
    });
    if (!bounds.isValid()) return;
    fitting = true;
    try {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14, animate: false });
    } finally {
      fitting = false;
    }
  }

  function showPlaceNote(unplaced) {
    var technicianCount = (unplaced && unplaced[0]) || 0;
    var visitCount = (unplaced && unplaced[1]) || 0;
    var parts = [];
    if (technicianCount) parts.push(label("unplaced_technicians", "{n} technicians not on the map").replace("{n}", technicianCount));
    if (visitCount) parts.push(label("unplaced_visits", "{n} visits without a position").replace("{n}", visitCount));
    placeNote.textContent = parts.join(" · ");
    placeNote.style.display = parts.length ? "block" : "none";
  }

  // -- what the application calls ------------------------------------------------------
  var api = {
    attach: function (leafletMap, tileLayer, attachOptions) {
      map = leafletMap;
      tiles = tileLayer;
      options = attachOptions || options;
      options.labels = options.labels || {};
      options.style = options.style || {};
      visitLayer = L.featureGroup().addTo(map);
      routeLayer = L.featureGroup().addTo(map);
      technicianLayer = L.featureGroup().addTo(map);

      var notes = L.control({ position: "topright" });
      notes.onAdd = function () {
        var box = L.DomUtil.create("div", "dm-notes");
        tileNote = L.DomUtil.create("div", "dm-note dm-tile-note", box);
        tileNote.textContent = label("tiles_unavailable", "Map tiles unavailable");
        tileNote.style.display = "none";
        placeNote = L.DomUtil.create("div", "dm-note dm-place-note", box);
        placeNote.style.display = "none";
        return box;
      };
      notes.addTo(map);
      map.on("dragstart zoomstart", function () {
        if (!fitting) userMoved = true;
      });
      map.on("resize", function () {
        if (!userMoved) fitAll();
      });
      if (tiles) watchTiles(tiles);
      else {
        tileState.failed = 1;
        showTileNote();
      }
      connectBridge();
      return true;
    },

    apply: function (update) {
      var started = performance.now();
      if (update.reset) {
        technicianLayer.clearLayers();
        visitLayer.clearLayers();
        routeLayer.clearLayers();
        technicians = {};
        visits = {};
      }
      (update.vr || []).forEach(removeVisit);
      (update.v || []).forEach(upsertVisit);
      (update.tr || []).forEach(removeTechnician);
      (update.t || []).forEach(upsertTechnician);
      if (update.reset) {
        userMoved = false;
        fitAll();
      }
      var routeChanged =
        (update.t || []).some(function (r) {
          return r.id === selected.technician;
        }) || (update.tr || []).indexOf(selected.technician) >= 0;
      if (routeChanged || update.reset) drawRoute();
      showPlaceNote(update.unplaced);
      applied += 1;
      lastApplyMs = performance.now() - started;
      return api.counts();
    },

    select: function (technicianId, visitId, centre) {
      selectVisit(visitId, centre && !!visitId);
      selectTechnician(technicianId, centre && !visitId);
      return { technician: selected.technician, visit: selected.visit };
    },

    openPopup: function (kind, id) {
      var entry = (kind === "technician" ? technicians : visits)[id];
      if (entry) entry.marker.openPopup();
      return !!entry;
    },

    setTiles: setTiles,
    fit: fitAll,

    // For tests, benchmarks and diagnostics: what the page holds.
    counts: function () {
      return {
        technicians: Object.keys(technicians).length,
        visits: Object.keys(visits).length,
        applied: applied,
        lastApplyMs: lastApplyMs,
        tilesUnavailable: !!tileNote && tileNote.style.display === "block",
        bridge: bridge !== null,
        tilesLoaded: tileState.loaded,
        tilesFailed: tileState.failed,
      };
    },
    where: function (kind, id) {
      var entry = (kind === "technician" ? technicians : visits)[id];
      if (!entry) return null;
      var at = entry.marker.getLatLng();
      return { lat: at.lat, lon: at.lng };
    },
    element: function (kind, id) {
      var entry = (kind === "technician" ? technicians : visits)[id];
      if (!entry) return null;
      return entry.marker.getElement ? entry.marker.getElement() : entry.marker._path;
    },
    centre: function () {
      var centre = map.getCenter();
      return { lat: centre.lat, lon: centre.lng, zoom: map.getZoom() };
    },
    selection: function () {
      return { technician: selected.technician, visit: selected.visit, route: routeLayer.getLayers().length };
    },
    clicks: function () {
      return clicks.slice();
    },
  };

  window.dispatchMap = api;
})();
