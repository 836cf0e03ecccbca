C=[]
def c(app,el,year,value,low,high,unit,basis,key,tag,note): C.append([app,el,year,value,low,high,unit,basis,key,tag,note])
W="wt%"; B="wt% of magnet"
# ---- sourced points
c("all_sintered_ndfeb","RE_total","",31.5,31,32,W,B,"yang-2017","P","'about 31-32 wt% REEs, mainly Nd+Pr plus a few minor, but expensive, HREEs such as Dy, Tb and Gd, depending on the applications'")
c("all_sintered_ndfeb","RE_total","2011",30,"","",W,B,"nedo-dy-2011","S","'Neodymium magnet contains rare earths at about 30%'; Toyota 2018 and Nikkei Asia: 'nearly 30%' in EV/HEV motor magnets (nedo-toyota-2018)")
c("all_sintered_ndfeb","Nd","",25,20,30,W,B,"aggregator-composition","U","typical 20-30% Nd, 0.5-7% Pr, 0.2-6% Dy, 0.3-1% B; up to 25% of Nd replaceable by Pr")
c("all_sintered_ndfeb","Pr","",3.75,0.5,7,W,B,"aggregator-composition","U","range only; value = midpoint (calc)")
c("all_sintered_ndfeb","Dy","",3.1,0.2,6,W,B,"aggregator-composition","U","range only; value = midpoint (calc)")
c("all_sintered_ndfeb","Nd+Pr","",30.75,29,32.5,W,B,"couragemagnet","S","vendor spec 'Nd 29-32.5%' (light RE total); Dy 0.6-1.2%")
c("all_sintered_ndfeb","Dy","",0.9,0.6,1.2,W,B,"couragemagnet","S","vendor spec for a generic grade")
c("all_sintered_ndfeb","Nd","2021",25,"","",W,B,"giti-ndfeb","U","'~25% Nd, ~5% Pr, ~1% Dy, ~1% Tb'")
c("all_sintered_ndfeb","Pr","2021",5,"","",W,B,"giti-ndfeb","U","")
c("all_sintered_ndfeb","Dy","2021",1,"","",W,B,"giti-ndfeb","U","")
c("all_sintered_ndfeb","Tb","2021",1,"","",W,B,"giti-ndfeb","U","")
# wind
c("wind_pm_generator","RE_total","2023",30,"","",W,B,"heim-2023","P","'total rare earth content is ~30% as the reduced metal'")
c("wind_pm_generator","Dy","2023",4,"","10",W,B,"heim-2023","P","'percentages greater than 6%-10% are desirable, cost and availability have pushed the Dy content to ~4%'")
c("wind_dd_pmsg","Dy/Nd","",0.089,"","","kg Dy/kg Nd","mass ratio","cawindmfa","S","(calc) 15/168 kg/MW (PMSG-DD); PMSG-GB 4/39 = 0.103; implies Dy ~1.9-2.2 wt% if Nd ~21 wt% (calc)")
c("wind_pm_generator","Nd","2011",216,"","","kg/MW","kg Nd per MW","usgs-wilburn-2011","S","251 kg Nd2O3/MW")
c("wind_pm_generator","Nd+Pr","2023",300,"","","kg NdPr oxide/MW","kg NdPr oxide per MW","tesla-2023","S","Lynas: 3,000 t NdPr oxide per 10 GW wind")
c("wind_pm_generator","Nd","2024",75.96,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","(calc) IEA 2024 wind demand Nd 7.11, Pr 1.17, Dy 0.79, Tb 0.29 kt; at 30% RE => Nd 22.8, Pr 3.8, Dy 2.5, Tb 0.9 wt% (calc)")
c("wind_pm_generator","Pr","2024",12.50,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","")
c("wind_pm_generator","Dy","2024",8.43,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","STEPS 2050: 9.36%")
c("wind_pm_generator","Tb","2024",3.10,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","STEPS 2050: 4.55%")
c("wind_dd_offshore","Dy","2025",150,"","","kg Dy/turbine",">12 MW DD turbine","rovjok-dy","U","'up to 150 kg Dy each'")
# EV
c("ev_traction","Nd","",24,"","",W,B,"yaan-xinkuang","S","EV magnets ~24% Nd, 7.5% Dy, 6% Pr (company page, year unknown)")
c("ev_traction","Pr","",6,"","",W,B,"yaan-xinkuang","S","")
c("ev_traction","Dy","",7.5,"","",W,B,"yaan-xinkuang","S","")
c("ev_traction","Dy","2012",6.5,3,10,W,B,"nikkei-2012","S","HEV/EV drive motors, AC compressors and servo motors use sintered NdFeB with 3-10 mass% Dy; value = midpoint (calc)")
c("hev_traction","Dy","2016",0,"","",W,B,"asahi-honda-2016","S","Honda Freed i-DCD hybrid: HRE-free hot-deformed magnet (single model)")
c("ev_traction","Dy+Tb","2018",0,"","",W,B,"nedo-toyota-2018","P","Toyota prototype (not in production): zero Dy/Tb, Nd -50% (La+Ce substitution)")
c("ev_traction","Nd","2024",78.55,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","(calc) IEA 2024 EV demand Nd 6.57, Pr 0.98, Dy 0.67, Tb 0.13 kt; at 31% RE => Nd 24.4, Pr 3.7, Dy 2.5, Tb 0.5 wt% (calc)")
c("ev_traction","Pr","2024",11.78,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","")
c("ev_traction","Dy","2024",8.07,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","constant (7.7-8.1%) in all IEA scenarios to 2050")
c("ev_traction","Tb","2024",1.60,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","")
c("ev_traction","Dy","2025",65,"","","g Dy/vehicle","per EV","rovjok-dy","U","65 t per million EVs; at 1.5-2 kg magnet => 3.3-4.3 wt% Dy (calc)")
c("ev_traction","Nd+Pr","2023",0.7,"","","kg NdPr oxide/vehicle","per EV","tesla-2023","S","Lynas: 7,000 t NdPr oxide per 10 M EVs; hybrids 0.5 kg")
c("ev_traction","Dy+Tb","2023",0.52,"","","kg/vehicle","per Tesla vehicle","tesla-2023","U","'~520 g per car' of 'heavy rare earths' per press summary; more likely total RE; 25% less HRE than earlier Tesla motors")
# electronics / HDD
c("electronics_hdd","Nd","2022",22.8,"","",W,B,"brgm-hdd-2023","A","ground end-of-life HDD magnets (France): Nd 22.8, Pr 3.3, Dy 1.2, Fe 62.6, Co 1.5, B 0.9, Ni 0.6 wt%")
c("electronics_hdd","Pr","2022",3.3,"","",W,B,"brgm-hdd-2023","A","")
c("electronics_hdd","Dy","2022",1.2,"","",W,B,"brgm-hdd-2023","A","")
c("electronics_hdd","Nd","2014",82.5,"","","% of Nd+Pr+Dy","share","reegain-hdd","calc","(calc) 850:140:40 kg Nd:Pr:Dy recoverable from Danish waste HDDs (Habib et al. 2014)")
c("electronics_hdd","Pr","2014",13.6,"","","% of Nd+Pr+Dy","share","reegain-hdd","calc","")
c("electronics_hdd","Dy","2014",3.9,"","","% of Nd+Pr+Dy","share","reegain-hdd","calc","at 30% RE => ~1.2 wt% Dy (calc)")
c("electronics_hdd","Dy","2008",0,"","",W,B,"campbell-2008","S","HDD voice-coil magnets historically near the ternary 2:14:1 composition (no Dy stated; value 0 is my reading of the qualitative statement)")
# industrial
c("industrial_motors","Dy","2012",6.5,3,10,W,B,"nikkei-2012","S","servo motors and AC compressors: 3-10 mass% Dy (midpoint calc)")
c("industrial_motors","Dy+Tb","2021",3,0.6,3,W,B,"mainrich-gbd","S","H-grade lawn-mower motor magnets: >=3% HRE conventional, <0.6% with GBD")
# e-bike
for el,v,lo,hi in [("Nd",15.95,15.2,16.7),("Pr",4.9,4.7,5.1),("Dy",1.65,1.3,2.0),("Gd",3.6,3.2,4.0),("La",0.8,0.5,1.1)]:
    c("e_two_wheeler",el,"2025",v,lo,hi,W,"wt% of magnet incl. coating","mdpi-ebike-2025","P","measured EoL e-bike hub-motor magnets (Appendix A); value = midpoint; Gd and La indicate substitution of Nd/Dy by cheaper RE")
# EU aggregate
c("all_ndfeb_EU_use","Dy/Nd","2010",0.187,"","","kg Dy/kg Nd","mass ratio","guyonnet-2015","calc","(calc) 230/1,230 t into use in EU permanent magnets 2010; ~4.5 wt% Dy if Nd 24% (calc)")
# IEA clean-tech aggregate
c("clean_tech_avg","Nd","2024",77.26,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","EV+wind")
c("clean_tech_avg","Pr","2024",12.32,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","Pr/(Nd+Pr) = 0.138 (calc), lower than the ~0.25 of Bayan Obo/Mountain Pass ore")
c("clean_tech_avg","Dy","2024",8.12,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","")
c("clean_tech_avg","Tb","2024",2.30,"","","% of magnet REE","share of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","")
c("clean_tech_avg","Dy","2030",9,"","","% of REO","share of clean-tech REE demand (REO) 2030","zhou-2017","A","Nd 75%, Dy 9% of 51.9 kt REO clean-tech demand in 2030 (abstract)")
c("clean_tech_avg","Nd","2030",75,"","","% of REO","share of clean-tech REE demand (REO) 2030","zhou-2017","A","")
# Nd:Pr
for app,v,lo,hi,key,tag,note in [("e_two_wheeler",0.235,0.22,0.25,"mdpi-ebike-2025","calc","Pr/(Nd+Pr) from measured ranges"),("electronics_hdd",0.126,"","","brgm-hdd-2023","calc","3.3/(22.8+3.3)"),("electronics_hdd",0.141,"","","reegain-hdd","calc","140/(850+140)"),("clean_tech_avg",0.138,"","","iea-cmdata-2025","calc","IEA 2024 EV+wind"),("ore_Bayan_Obo",0.251,"","","usgs-myb2022-t2","calc","6.2/(18.5+6.2)"),("ore_Mountain_Pass",0.264,"","","usgs-myb2022-t2","calc","4.2/(11.7+4.2)"),("ore_Mount_Weld",0.222,"","","usgs-myb2022-t2","calc","5.16/(18.13+5.16)")]:
    c(app,"Pr/(Nd+Pr)","",v,lo,hi,"1","mass ratio Pr/(Nd+Pr)",key,tag,note)
# ---- suggested central values (assumption), wt% of magnet
cent={
"ev_traction":{"RE":(31,30,32),
  "2010":{"Dy":(7.5,4,10),"Tb":(0.2,0,1.0)},"2020":{"Dy":(3.0,2,5),"Tb":(0.5,0.2,1.0)},"2030":{"Dy":(2.0,1,3),"Tb":(0.5,0.2,1.0)},"prs":0.2},
"hev_traction":{"RE":(31,30,32),
  "2010":{"Dy":(7.5,4,10),"Tb":(0.2,0,1.0)},"2020":{"Dy":(3.0,0,5),"Tb":(0.5,0,1.0)},"2030":{"Dy":(2.0,0,3),"Tb":(0.5,0,1.0)},"prs":0.2},
"wind_pm_generator":{"RE":(30,29,32),
  "2010":{"Dy":(4.0,3,6),"Tb":(0.1,0,0.5)},"2020":{"Dy":(3.0,2,4),"Tb":(0.5,0,1.0)},"2030":{"Dy":(2.0,1,3),"Tb":(0.8,0.3,1.2)},"prs":0.2},
"industrial_motors":{"RE":(31,30,32),
  "2010":{"Dy":(5.0,3,10),"Tb":(0,0,0.5)},"2020":{"Dy":(3.0,1,5),"Tb":(0.2,0,0.5)},"2030":{"Dy":(1.5,0.5,3),"Tb":(0.3,0,0.6)},"prs":0.2},
"electronics":{"RE":(30,27,32),
  "2010":{"Dy":(1.0,0,2),"Tb":(0,0,0.3)},"2020":{"Dy":(1.0,0,2),"Tb":(0,0,0.3)},"2030":{"Dy":(1.0,0,2),"Tb":(0,0,0.3)},"prs":0.14},
"other_magnets":{"RE":(30,27,32),
  "2010":{"Dy":(0.5,0,1.2),"Tb":(0,0,0.3)},"2020":{"Dy":(0.5,0,1.2),"Tb":(0,0,0.3)},"2030":{"Dy":(0.5,0,1.2),"Tb":(0,0,0.3)},"prs":0.2},
"bonded_ndfeb":{"RE":(28,26,30),
  "2010":{"Dy":(0,0,0.5),"Tb":(0,0,0)},"2020":{"Dy":(0,0,0.5),"Tb":(0,0,0)},"2030":{"Dy":(0,0,0.5),"Tb":(0,0,0)},"prs":0.2},
}
for app,d in cent.items():
    RE,RElo,REhi=d["RE"]; prs=d["prs"]
    for y in ["2010","2020","2030"]:
        dy,dylo,dyhi=d[y]["Dy"]; tb,tblo,tbhi=d[y]["Tb"]
        ndpr=RE-dy-tb
        pr=round(ndpr*prs,1); nd=round(ndpr-pr,1)
        # ranges for Nd/Pr: Pr share 0.12-0.26 (0.12-0.16 for electronics) and RE range
        pslo,pshi=(0.12,0.16) if app=="electronics" else (0.12,0.26)
        ndprlo=RElo-dyhi-tbhi; ndprhi=REhi-dylo-tblo
        c(app,"RE_total",y,RE,RElo,REhi,W,B,"assumption-element-composition","assumption","sintered 30-32 wt% RE (yang-2017, heim-2023); bonded: assumption")
        c(app,"Dy",y,dy,dylo,dyhi,W,B,"assumption-element-composition","assumption","see README derivation")
        c(app,"Tb",y,tb,tblo,tbhi,W,B,"assumption-element-composition","assumption","see README derivation")
        c(app,"Pr",y,pr,round(max(ndprlo,0)*pslo,1),round(ndprhi*pshi,1),W,B,"assumption-element-composition","assumption",f"(calc) (RE-Dy-Tb) x Pr/(Nd+Pr) = {prs}")
        c(app,"Nd",y,nd,round(ndprlo*(1-pshi),1),round(ndprhi*(1-pslo),1),W,B,"assumption-element-composition","assumption",f"(calc) (RE-Dy-Tb) x {1-prs:.2f}")
# e-bike central = measured
