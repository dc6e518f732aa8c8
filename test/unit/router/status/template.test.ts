import assert from 'node:assert/strict';
import {weaveStatus} from '../../../../src/lib/router/status/report.js';
import {Template, TemplateExecError, TemplateParseError} from '../../../../src/lib/router/status/template.js';
import {BUSY, FRESH, NO_IPAM} from '../../../helpers/router-states.js';
import type {RouterState} from '../../../../src/lib/router/state.js';

const run = (text: string, state: RouterState = BUSY) => Template.parse('format', text).execute(weaveStatus(state));

function parseError(text: string): string {
  try {
    Template.parse('format', text);
  } catch (error) {
    assert.ok(error instanceof TemplateParseError, String(error));
    return error.message;
  }
  assert.fail(`${text} parsed`);
}

function execError(text: string, state: RouterState = BUSY): void {
  assert.throws(() => run(text, state), TemplateExecError);
}

describe('report templates (Go text/template subset)', () => {
  describe('the templates of the upstream tests', () => {
    it('{{.Router.Name}}({{.Router.NickName}})', () => assert.equal(run('{{.Router.Name}}({{.Router.NickName}})'), '8a:3e:3e:3e:3e:3e(host1)'));
    it('{{len .Router.Peers}}', () => assert.equal(run('{{len .Router.Peers}}', FRESH), '1'));
    it('{{.IPAM.DefaultSubnet}}', () => assert.equal(run('{{.IPAM.DefaultSubnet}}'), '10.32.0.0/12'));
    it('{{range .Router.Targets}}{{.}}<newline>{{end}}', () => {
      assert.equal(run('{{range .Router.Targets}}{{.}}\n{{end}}'), '192.168.48.12\n192.168.48.13:6783\n');
      assert.equal(run('{{range .Router.Targets}}{{.}}\n{{end}}', FRESH), '');
    });
    it('{{.VersionCheck.Enabled}}', () => assert.equal(run('{{.VersionCheck.Enabled}}'), 'false'));
  });

  it('prints values as Go does: booleans, empty lists, structs with String(), nil, zero time', () => {
    assert.equal(run('{{.Ready}} {{.Router.Encryption}} {{.Router.Port}}'), 'true true 6783');
    assert.equal(run('{{.Router.Targets}}|{{.Router.MACs}}|{{.Router.UnicastRoutes}}', FRESH), '[]|[]|[{8a:3e:3e:3e:3e:3e 00:00:00:00:00:00}]');
    assert.equal(run('{{.VersionCheck}}'), 'version check update disabled');
    assert.equal(run('{{.VersionCheck.NextCheckAt}}'), '0001-01-01 00:00:00 +0000 UTC');
    assert.equal(run('{{.DNS}} {{.Router.OverlayDiagnostics}} {{.Router.CaptureStats}}'), '<nil> map[fastdp:<nil> sleeve:<nil>] <nil>');
    assert.equal(run('{{(index .Router.Connections 0).Attrs}}'), 'map[encrypted:true mtu:1410 name:fastdp]');
    assert.equal(run('{{(index .Router.Connections 0).Attrs.missing}}'), '<no value>');
    assert.equal(run('{{(index .Router.Peers 0).UID}}'), '12345678901234567890');
  });

  it('copies text verbatim (a backslash-n stays two characters, as in Go)', () => {
    assert.equal(run('a\\nb {{"c\\nd"}}'), 'a\\nb c\nd');
  });

  it('runs if / else if / else on Go truth', () => {
    const t = '{{if .DNS}}dns{{else if .IPAM.PendingAllocates}}waiting{{else}}idle{{end}}';
    assert.equal(run(t), 'waiting');
    assert.equal(run(t, FRESH), 'idle');
    assert.equal(run('{{if .IPAM}}on{{else}}off{{end}}', NO_IPAM), 'off');
    assert.equal(run('{{if .Router.Targets}}some{{end}}', FRESH), '');
    assert.equal(run('{{if not .Router.Encryption}}clear{{else}}secret{{end}}'), 'secret');
    assert.equal(run('{{if and .Ready (eq .Router.NickName "host1")}}y{{end}}{{if or .DNS .Proxy}}n{{end}}'), 'y');
  });

  it('ranges over lists and maps (sorted keys), with variables and an else branch', () => {
    assert.equal(run('{{range $i, $p := .Router.Peers}}{{$i}}={{$p.NickName}} {{end}}'), '0=host1 1=host2 2=host4 ');
    assert.equal(run('{{range $k, $v := (index .Router.Connections 1).Attrs}}{{$k}}:{{$v}},{{end}}'), 'mtu:1438,name:sleeve,');
    assert.equal(run('{{range .Router.Targets}}{{.}}{{else}}none{{end}}', FRESH), 'none');
    assert.equal(run('{{range .Router.Peers}}{{.NickName}}{{range .Connections}}[{{.NickName}}]{{end}} {{end}}'), 'host1[host2][host4] host2[host1] host4 ');
    assert.equal(run('{{range .Router.Peers}}{{$.Router.NickName}}{{end}}'), 'host1host1host1');
  });

  it('runs with, variables, pipelines, printf, print and json', () => {
    assert.equal(run('{{with .IPAM}}{{.Range}}{{end}}'), '10.32.0.0/12');
    assert.equal(run('{{with .DNS}}x{{else}}no dns{{end}}'), 'no dns');
    assert.equal(run('{{if $t := .Router.Targets}}{{len $t}} targets{{end}}'), '2 targets');
    assert.equal(run('{{$x := 1}}{{if .Ready}}{{$x = 2}}{{end}}{{$x}}'), '2');
    assert.equal(run('{{$n := len .Router.Peers}}{{$n}} peers'), '3 peers');
    assert.equal(run('{{.Router.Peers | len}}'), '3');
    assert.equal(run('{{printf "%-8v|%5d|%s" .Router.NickName .Router.Port .Version}}'), 'host1   | 6783|2.8.1');
    assert.equal(run('{{print .Router.Port .Router.Port "x" 1}}'), '6783 6783x1');
    assert.equal(run('{{json .Router.Targets}}'), '["192.168.48.12","192.168.48.13:6783"]');
    assert.equal(run('{{json .IPAM}}', NO_IPAM), 'null');
    assert.equal(run('{{.Router.Targets | json}}', FRESH), 'null');
    assert.equal(run('{{index .Router.Targets 1}}'), '192.168.48.13:6783');
    assert.equal(run('{{if gt (len .Router.Peers) 2}}many{{end}}{{if ne .Router.Port 6783}}odd{{end}}'), 'many');
  });

  it('trims white space next to {{- and -}}, and skips comments', () => {
    assert.equal(run('a  \n {{- .Router.NickName -}} \n  b'), 'ahost1b');
    assert.equal(run('{{/* a comment */}}x{{- /* trimmed */ -}} y'), 'xy');
    assert.equal(run('{{-3}}'), '-3');
  });

  it('answers what does not parse with Go-like messages naming the line', () => {
    assert.equal(parseError('{{.Router.Name'), 'template: format:1: unclosed action');
    assert.equal(parseError('{{nosuch .X}}'), 'template: format:1: function "nosuch" not defined');
    assert.equal(parseError('{{end}}'), 'template: format:1: unexpected {{end}}');
    assert.equal(parseError('x\n{{if .Ready}}'), 'template: format:2: unexpected EOF');
    assert.equal(parseError('{{$x}}'), 'template: format:1: undefined variable "$x"');
    assert.equal(parseError('{{if}}{{end}}'), 'template: format:1: missing value for if');
    assert.equal(parseError('{{"abc}}'), 'template: format:1: unterminated quoted string');
    assert.match(parseError('{{template "x"}}'), /\{\{template\}\} is not supported/);
  });

  it('fails at run time on nil pointers, unknown fields, bad arguments', () => {
    execError('{{.IPAM.DefaultSubnet}}', NO_IPAM);
    execError('{{.DNS.Domain}}');
    execError('{{.Router.Nope}}');
    execError('{{len .Router.Port}}');
    execError('{{index .Router.Targets 5}}');
    execError('{{eq .Router.Port "6783"}}');
    execError('{{.Router.Name 1}}');
  });
});
